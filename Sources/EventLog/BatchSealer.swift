import Synchronization

/// Rewrites records on their way into the log, before they are prepared (the lead store seals
/// personal fields with it, see `LeadEngine.PersonalFieldSealer`): the hash chain is then
/// computed over what it wrote. What the new records depend on (their keys) is made durable
/// through `makeDurable` before they are committed: by the writer's chainer thread, before
/// it hands the group to the committer (so that it overlaps the previous group's commit).
public protocol BatchSealer: Sendable {
    /// The batch rewritten (`nil` when it has nothing to rewrite, most batches), and the mark
    /// to pass to `makeDurable` before it is committed (0: nothing to wait for).
    func seal(_ batch: PendingBatch) throws -> (batch: PendingBatch?, durability: UInt64)
    /// Makes durable everything that batches sealed up to `mark` depend on.
    func makeDurable(through mark: UInt64) throws
    /// Takes back a batch that `seal` rewrote (its memory may hold the next rewritten batch).
    func recycle(_ batch: PendingBatch)
}

extension BatchSealer {
    public func recycle(_ batch: PendingBatch) {}
}

/// The log's sealer, shared by the log and its writer (set after the log opens).
final class SealerSlot: Sendable {
    private let sealer = Mutex<(any BatchSealer)?>(nil)

    var current: (any BatchSealer)? { sealer.withLock { $0 } }

    func set(_ sealer: (any BatchSealer)?) {
        self.sealer.withLock { $0 = sealer }
    }
}

extension PendingBatch {
    /// Whether a `BatchSealer` already saw this batch (a bulk ingest seals on its transcoding
    /// threads, so that the writer does not go over it again).
    public var isSealed: Bool {
        get { sealedFlag }
        set { sealedFlag = newValue }
    }
}
