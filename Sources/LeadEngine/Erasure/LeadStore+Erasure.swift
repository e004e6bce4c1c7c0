import EventLog
import LeadDomain
import LedgerJSON

/// Erasing a lead's personal data on request (`lead erase`, `DELETE /v1/leads/{id}`): its
/// keys are destroyed, so that its sealed fields can never be opened again, and a
/// `lead.erased` event records who asked and why. Stages, touches, scores and revenue are not
/// personal data and stay as they were: every report gives the same totals after.
extension LeadStore {
    /// What `erase` did.
    public struct ErasureOutcome: Sendable {
        /// The lead erased: the one asked for, or the lead it was merged into.
        public var lead: String
        public var erasure: LeadKeyStore.Erasure
        /// Where `lead.erased` is in the log.
        public var position: UInt64
        /// The lead was erased before (the first erasure's time and reason are kept).
        public var alreadyErased: Bool
        /// The streams whose keys were destroyed: the lead's, its visitors', and those of the
        /// leads merged into it.
        public var streams: [String]
    }

    /// What to tell whoever publishes `rules` to this store: its rules on personal fields
    /// never hold when the store encrypts them (scoring never decrypts); `nil` when none does.
    public func warningForRulesOnPersonalFields(_ rules: ScoringRules) -> String? {
        guard let personal = keys?.personal.rulesReadingPersonalFields(rules), !personal.isEmpty else { return nil }
        return "this store encrypts personal fields, which rules never see: \(personal.joined(separator: ", ")) will never hold (test a free-mail address on emailDomain)"
    }

    /// When and why the lead's personal fields were erased (`nil`: never).
    public func erasure(of lead: String) -> LeadKeyStore.Erasure? {
        keys?.erasure(of: lead)
    }

    /// Erases the personal fields of the person lead `id` is (following merges to the lead it
    /// ended in), blocking until the `lead.erased` event is durable.
    public func erase(_ id: String, reason: String, actor: String, at: Timestamp = .now) throws -> ErasureOutcome {
        guard let keys else { throw ErasureError.plaintextStore(path) }
        guard let (state, _) = try resolvedLead(id) else { throw ErasureError.unknownLead(id) }
        // (The keys wrapped beside the lead's in one chunk are wrapped again.)
        guard keys.hasMasterKey else { throw ErasureError.needsMasterKey(keys.path) }
        let lead = state.lead
        let event = try Self.erasureEvent(lead: lead, reason: reason, actor: actor, at: at)
        let streams = try erasableStreams(of: lead)
        let previous = keys.erasure(of: lead)
        let erasure = previous ?? LeadKeyStore.Erasure(at: at, reason: reason)
        // The keys first: once the event says the lead is erased, it is.
        try keys.erase(streams, erasure: erasure)
        switch try append([event])[0] {
        case .appended(let position):
            return ErasureOutcome(lead: lead, erasure: erasure, position: position, alreadyErased: previous != nil, streams: streams)
        case .duplicate(let position):
            return ErasureOutcome(lead: lead, erasure: erasure, position: position, alreadyErased: true, streams: streams)
        case .rejected(let why):
            throw ErasureError.refused(why)
        case .conflict:
            throw ErasureError.refused("the erasure event was not stored (conflict)")
        }
    }

    /// The `lead.erased` event of `lead`. Its id, `$erase/ID`, is one input cannot use (the
    /// `$` prefix is the engine's), so that only an erasure that destroyed the keys first
    /// writes one; one id per lead: asking again is answered as a duplicate of the first.
    public static func erasureEvent(lead: String, reason: String, actor: String, at: Timestamp) throws -> Envelope {
        let data: JSONObject = ["reason": .string(reason)]
        try Vocabulary.validate(.leadErased, data)
        guard !actor.isEmpty else { throw EnvelopeError(field: "actor", "required for lead.erased") }
        return Envelope(id: "\(Self.erasureIDPrefix)\(lead)", type: .leadErased, lead: lead, at: at, actor: actor, data: data)
    }

    /// What the id of a lead's `lead.erased` starts with.
    public static let erasureIDPrefix = "$erase/"

    /// The streams that hold the person's events: the lead's own, its visitors' (joined by
    /// `identity.linked`), and, recursively, those of the leads merged into it.
    func erasableStreams(of lead: String) throws -> [String] {
        var streams: [String] = []
        var pending = [lead]
        var seen: Set<String> = []
        while let stream = pending.popLast() {
            guard seen.insert(stream).inserted else { continue }
            streams.append(stream)
            try log.forEach(stream: stream) { record in
                // (Only links and merges lead to other streams: the rest are not decoded.)
                let type = try EventCodec.header(record.payload).type
                guard type == .identityLinked || type == .leadMerged else { return }
                let event = try Self.event(from: record)
                if event.type == .identityLinked, let visitor = event.data["visitor"]?.stringValue {
                    pending.append(Envelope.visitorStream(visitor))
                }
                if let duplicate = Self.mergedDuplicate(event) { pending.append(duplicate) }
            }
        }
        return streams
    }
}

/// An erasure that cannot be made.
public enum ErasureError: Error, CustomStringConvertible, Equatable {
    case unknownLead(String)
    /// The store keeps personal fields in plaintext: there is no key to destroy.
    case plaintextStore(String)
    /// Erasing rewrites the key store, which needs the master key.
    case needsMasterKey(String)
    case refused(String)

    public var description: String {
        switch self {
        case .unknownLead(let id): return "unknown lead \(id)"
        case .plaintextStore(let path):
            return "the store at \(path) keeps personal fields in plaintext (it was written without a master key), so they cannot be "
                + "erased by destroying a key; see \"Erasure\" in docs/lead-data.md"
        case .needsMasterKey(let path):
            return "erasing needs the store's master key (the other keys kept in \(path) are wrapped again): give --master-key-file FILE "
                + "or set \(MasterKey.environmentVariable)"
        case .refused(let why): return why
        }
    }
}
