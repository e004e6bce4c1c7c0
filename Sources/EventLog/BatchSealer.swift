/// Rewrites records on their way into the log, before they reach the writer (the lead
/// store seals personal fields with it, see `LeadEngine.PersonalFieldSealer`): the hash chain
/// is then computed over what it wrote. It may make whatever the new records depend on
/// durable before it returns (their keys), since the log commits only after.
public protocol BatchSealer: Sendable {
    /// The batch rewritten, or `nil` when it has nothing to rewrite (most batches).
    func seal(_ batch: PendingBatch) throws -> PendingBatch?
}

extension PendingBatch {
    /// Whether a `BatchSealer` already saw this batch (a bulk ingest seals on its transcoding
    /// threads, so that the log does not go over it again).
    public var isSealed: Bool {
        get { sealedFlag }
        set { sealedFlag = newValue }
    }
}
