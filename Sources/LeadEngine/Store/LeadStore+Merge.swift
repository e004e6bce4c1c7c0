import EventLog
import LeadDomain
import LedgerJSON

/// Merging a duplicate lead into its survivor (`lead merge`, `POST /v1/leads/{id}/merge`).
extension LeadStore {
    /// The `lead.merged` event that merges `duplicate` into `survivor`, validated as any
    /// input event is (the ids' rules, the actor). Its id is the same for the same pair, so a
    /// repeated request is answered as a duplicate of the merge already made.
    public static func mergeEvent(duplicate: String, into survivor: String, actor: String, at: Timestamp, reason: String? = nil) throws -> Envelope {
        var data: JSONObject = ["duplicate": .string(duplicate)]
        if let reason { data["reason"] = .string(reason) }
        let json: JSONObject = [
            "id": .string("merge:\(duplicate):into:\(survivor)"), "type": .string(EventType.leadMerged.rawValue),
            "lead": .string(survivor), "at": .string(at.rfc3339), "actor": .string(actor), "data": .object(data),
        ]
        return try Envelope(json: .object(json))
    }

    /// Appends the merge of `duplicate` into `survivor` (blocking until it is durable): its
    /// outcome, a refusal naming why (see `Merge.refusal`).
    public func merge(_ duplicate: String, into survivor: String, actor: String, at: Timestamp = .now, reason: String? = nil) throws -> AppendOutcome {
        try append([Self.mergeEvent(duplicate: duplicate, into: survivor, actor: actor, at: at, reason: reason)])[0]
    }

    /// A lead read by its id, following merges: the lead the id ended in, and the steps that
    /// led there (empty when `id` was not merged away). `nil` for an unknown id.
    public func resolvedLead(_ id: String) throws -> (state: LeadState, chain: [(lead: String, into: String)])? {
        let chain = try mergeChain(of: id)
        guard let state = try lead(chain.last?.into ?? id) else { return nil }
        return (state, chain)
    }

    /// The lead a current read of `id` is about: the lead it was merged into (at the end of
    /// the chain), else `id` itself. Reads as of a past time keep `id`.
    public func currentLead(_ id: String) throws -> String {
        try mergeChain(of: id).last?.into ?? id
    }

    /// The merges a merged-away lead went through, in order (A into B, then B into C: both
    /// steps); empty when `id` was not merged away.
    public func mergeChain(of id: String) throws -> [(lead: String, into: String)] {
        var chain: [(lead: String, into: String)] = []
        var current = id
        // (Merges never make a cycle; the bound only guards the loop.)
        while chain.count < 10_000, let into = try lead(current)?.mergedInto {
            chain.append((current, into))
            current = into
        }
        return chain
    }
}
