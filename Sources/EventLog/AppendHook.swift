import LMDB

/// What an append hook decides about a candidate record.
public enum AdmitDecision: Sendable {
    case accept
    /// Store it as it is, and hand `didStore` this attachment instead of the record's own
    /// (e.g. what `admit` decoded, so that it is not decoded twice).
    case attach(any RecordAttachment)
    /// Store this instead (same id; e.g. with derived data stamped in, or in another stream).
    case replace(PendingRecord)
    case reject(reason: String)
}

/// Code that validates and projects every record as it is appended, so that the projection
/// advances atomically with the log: a commit stores both or neither. The log stays
/// domain-agnostic; LeadLedger's lifecycle plugs in here.
///
/// The writer prepares a group of records on one thread (its sequencer) and stores them on
/// another (its committer, after its chainer has hashed them), so that the next group is
/// prepared while the previous one commits. All of the hook's calls run on the sequencer
/// thread, in this order per group: `admit`, then `didStore` (and `followUps`) per record,
/// then `prepareCommit` once. The transaction they are given is a read snapshot that does
/// not yet show the groups still being committed, nor the records of the current group: the
/// hook keeps what it changed in those groups in memory, and must keep it until
/// `didCommit(through:)` says they are stored. A group holding a record for which
/// `requiresSerial` is true is instead prepared alone, in the write transaction that stores
/// it, once every earlier group is committed.
///
/// If a commit fails (or the map grows and a serial group is run again), `didAbort` is
/// called and the hook must forget everything it has not seen committed.
public protocol AppendHook: AnyObject {
    /// When set, the writer records in every commit that this hook has processed the log
    /// through the last position (a checkpoint under this name), atomically with its writes.
    var checkpointName: String? { get }
    /// Whether `record` must see every earlier record committed, and its own group's records
    /// in its transaction (e.g. it changes how every later record is judged).
    func requiresSerial(_ record: PendingView) -> Bool
    /// Decides whether `record` may be stored, given everything before it.
    func admit<T: TransactionReading>(_ record: PendingView, in txn: T) throws -> AdmitDecision
    /// The record will be stored at `record.position` (its hash is not computed yet).
    /// `attachment` is the pending record's, or the one `admit` gave it.
    func didStore<T: TransactionReading>(_ record: RecordView, attachment: (any RecordAttachment)?, in txn: T) throws
    /// Records this hook wants appended after `record` in the same group (e.g. derived
    /// events); they go through `admit` and `didStore` like any other.
    func followUps(after record: RecordView, attachment: (any RecordAttachment)?) throws -> [PendingRecord]
    /// The group numbered `sequence` is complete: returns what the hook stores for it (run in
    /// the group's write transaction, possibly on another thread and more than once if the
    /// map has to grow), or `nil` for nothing.
    func prepareCommit(sequence: UInt64) throws -> (@Sendable (WriteTransaction) throws -> Void)?
    /// Every group numbered `sequence` or lower is durable (and visible to new snapshots).
    func didCommit(through sequence: UInt64)
    /// Forget every group not yet reported committed.
    func didAbort()
}

extension AppendHook {
    public var checkpointName: String? { nil }
    public func requiresSerial(_ record: PendingView) -> Bool { false }
    public func followUps(after record: RecordView, attachment: (any RecordAttachment)?) throws -> [PendingRecord] { [] }
    public func prepareCommit(sequence: UInt64) throws -> (@Sendable (WriteTransaction) throws -> Void)? { nil }
    public func didCommit(through sequence: UInt64) {}
    public func didAbort() {}
}
