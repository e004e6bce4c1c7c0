import LMDB

/// What an append hook decides about a candidate record.
public enum AdmitDecision: Sendable {
    case accept
    case reject(reason: String)
}

/// Code that runs inside the log's write transaction, on the writer thread, so that
/// validation and projections advance atomically with the append: a crash leaves both or
/// neither. The log stays domain-agnostic; LeadLedger's lifecycle plugs in here.
///
/// Calls for one transaction: `admit`/`didStore` per record in order, then `willCommit`,
/// then `didCommit` once the commit is durable. If the transaction is aborted (an error, or
/// the map grew and the batch is run again), `didAbort` is called instead and the hook must
/// forget what it cached since the last commit.
public protocol AppendHook: AnyObject {
    /// When set, the writer records in every commit that this hook has processed the log
    /// through the last position (a checkpoint under this name), atomically with its writes.
    var checkpointName: String? { get }
    /// Decides whether `record` may be stored, given everything stored before it (in this
    /// transaction too). It may rewrite the payload (e.g. stamp derived data).
    func admit(_ record: inout PendingRecord, in txn: WriteTransaction) throws -> AdmitDecision
    /// The record was stored at `record.position`. `attachment` is the pending record's.
    func didStore(_ record: RecordView, attachment: (any Sendable)?, in txn: WriteTransaction) throws
    /// Records this hook wants appended after `record` in the same transaction (e.g. derived
    /// events); they go through `admit` and `didStore` like any other.
    func followUps(after record: RecordView, attachment: (any Sendable)?) -> [PendingRecord]
    /// Last chance to write cached state before the commit.
    func willCommit(in txn: WriteTransaction) throws
    /// The transaction is durable.
    func didCommit()
    func didAbort()
}

extension AppendHook {
    public var checkpointName: String? { nil }
    public func followUps(after record: RecordView, attachment: (any Sendable)?) -> [PendingRecord] { [] }
    public func willCommit(in txn: WriteTransaction) throws {}
    public func didCommit() {}
    public func didAbort() {}
}
