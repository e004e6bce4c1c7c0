import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// Anonymous visitors and their joins to leads (tracking's identity). A visitor's events are
/// stored in its own stream (`$anon:<id>`), which no lead is; an `identity.linked` in a lead's
/// stream joins a visitor to it: applying it applies the visitor's events stored before it to
/// the lead, each at its own time and position, and from then on the visitor's events are
/// stored in the lead's stream. Links run serially (see `requiresSerial`), so the visitor's
/// stream is complete in the link's transaction, live and in a replay alike.
extension LifecycleProjection {
    /// How refusals that store nothing for a reason that is no fault begin (`isQuietRefusal`).
    static let quietRefusal = "nothing to store: "

    static func visitor(ofStream stream: String) -> String? {
        stream.hasPrefix(Envelope.visitorStreamPrefix) ? String(stream.dropFirst(Envelope.visitorStreamPrefix.count)) : nil
    }

    static func isLink(payload: UnsafeRawBufferPointer) -> Bool {
        payload.count > 1 && payload[1] == EventType.identityLinked.code
    }

    /// `admit` for a record tracking sent (its id is reserved), a visitor's, or a link: where
    /// it goes, or `nil` for the usual checks.
    func admitTracked(_ record: PendingView, in txn: some TransactionReading) throws -> AdmitDecision? {
        let decoded = try DecodedEvent.of(record.attachment)
            ?? DecodedEvent(EventCodec.decode(record.payload, id: record.idString, lead: record.streamString))
        let event = decoded.event
        guard let lead = event.lead else { return nil }
        if let visitor = Self.visitor(ofStream: lead) {
            // A joined visitor's events belong to its lead from now on; the join's own marker
            // and a visitor not joined yet keep its stream.
            if event.type != .identityLinked, let joined = try links.lead(of: visitor, reader: reader, in: txn) {
                return .replace(Self.moved(event, to: try finalSurvivor(of: joined, in: txn)))
            }
            return .attach(decoded)
        }
        if event.type == .identityLinked {
            guard case .link(let alias, let onlyIfAny)? = decoded.route else { return try admitLink(event, alias: false, onlyIfAny: false, in: txn) }
            return try admitLink(event, alias: alias, onlyIfAny: onlyIfAny, in: txn)
        }
        switch decoded.route {
        case .leadOrVisitor(let visitor)?:
            guard try cachedLead(lead, in: txn) == nil else { return nil }
            // Not a lead yet: kept with the visitor until an identify joins it.
            let target = try links.lead(of: visitor, reader: reader, in: txn).map { try finalSurvivor(of: $0, in: txn) } ?? Envelope.visitorStream(visitor)
            return .replace(Self.moved(event, to: target))
        case .captureOrEnrich?:
            guard event.type == .leadCaptured, try cachedLead(lead, in: txn) != nil else { return nil }
            var enriched = event
            enriched.type = .leadEnriched
            // (The capture's source is where the lead came from; a later identify does not change it.)
            enriched.data["source"] = nil
            if enriched.data.isEmpty { return .reject(reason: Self.quietRefusal + "lead \(lead) is known and the identify adds no trait") }
            return .replace(LeadStore.pending(enriched))
        case .link?, nil:
            return nil
        }
    }

    /// A join of `event.data.visitor` to `event.lead`: stored as it is, as a conflict (the
    /// visitor is another lead's, or an alias names two known leads), or not at all (made
    /// already, or nothing to join).
    private func admitLink(_ event: Envelope, alias: Bool, onlyIfAny: Bool, in txn: some TransactionReading) throws -> AdmitDecision? {
        guard let lead = event.lead, let visitor = event.data["visitor"]?.stringValue,
              try cachedLead(lead, in: txn) != nil  // else the lifecycle's refusal: an unknown lead
        else { return nil }
        if alias, visitor != lead, try cachedLead(visitor, in: txn) != nil {
            return .replace(LeadStore.pending(Self.conflict(event, visitor: nil, with: visitor, "both ids are known leads; merging them is for a person to decide")))
        }
        if let joined = try links.lead(of: visitor, reader: reader, in: txn) {
            if joined == lead { return .reject(reason: Self.quietRefusal + "visitor \(visitor) is joined to lead \(lead) already") }
            return .replace(LeadStore.pending(Self.conflict(event, visitor: visitor, with: joined, "the visitor is lead \(joined)'s already")))
        }
        if onlyIfAny, try reader.last(stream: Envelope.visitorStream(visitor), in: txn) == nil {
            return .reject(reason: Self.quietRefusal + "visitor \(visitor) has no events")
        }
        return nil
    }

    static func conflict(_ link: Envelope, visitor: String?, with other: String, _ reason: String) -> Envelope {
        var data: JSONObject = [:]
        if let visitor { data["visitor"] = .string(visitor) }
        data["with"] = .string(other)
        data["reason"] = .string(reason)
        return Envelope(id: link.id, type: .identityConflict, lead: link.lead, at: link.at, actor: link.actor, data: data)
    }

    /// The same event in another stream (a lead's or a visitor's).
    static func moved(_ event: Envelope, to stream: String) -> PendingRecord {
        var moved = event
        moved.lead = stream
        return LeadStore.pending(moved)
    }

    /// After a link is stored: the visitor's marker, which routes its later events (and
    /// which a replay finds in the visitor's stream).
    func visitorMarker(after record: RecordView, attachment: (any RecordAttachment)?) throws -> PendingRecord? {
        let lead = record.streamString
        guard Self.visitor(ofStream: lead) == nil, lead != Envelope.systemStream else { return nil }
        let event = try DecodedEvent.of(attachment)?.event ?? LeadStore.event(from: record)
        guard let visitor = event.data["visitor"]?.stringValue else { return nil }
        links.remember(visitor, joinedTo: lead)
        return LeadStore.pending(Envelope(
            id: "$v/" + event.id, type: .identityLinked, lead: Envelope.visitorStream(visitor), at: event.at, actor: event.actor,
            data: ["visitor": .string(visitor), "lead": .string(lead)]))
    }

    /// Applies to `lead` the events of `visitor` stored before the link at `linkPosition`, at
    /// their own times and positions; dimension values they meet first are interned at the
    /// link's position (where a live append meets them), so a replay assigns the same ids —
    /// or at `internAt`, later, when the lead is being rebuilt for a merge.
    func applyVisitor(
        _ visitor: String, to lead: String, linkPosition: UInt64, in txn: some TransactionReading, interner: Interner, internAt: UInt64
    ) throws {
        var events: [(payload: [UInt8], id: [UInt8], position: UInt64)] = []
        try reader.forEach(stream: Envelope.visitorStream(visitor), in: txn) { record in
            guard record.position < linkPosition, !Self.isLink(payload: record.payload) else { return }
            events.append((Array(record.payload), Array(record.id), record.position))
        }
        let leadBytes = Array(lead.utf8)
        for event in events {
            try event.payload.withUnsafeBytes { payload in
                try event.id.withUnsafeBytes { id in
                    try leadBytes.withUnsafeBytes { leadBytes in
                        try apply(stored: payload, id: id, lead: leadBytes, position: event.position, in: txn, interner: interner, internAt: internAt)
                    }
                }
            }
        }
    }

    /// Calls `body` with each event of `lead`'s stream and, after each link, with the joined
    /// visitor's events stored before it, and after each merge, with the duplicate's (for
    /// recomputing a lead's hits from the log). `limit`: only events stored before it;
    /// `owner`: the lead the events are reported as (the survivor, for a duplicate's).
    func forEachEvent(
        of lead: String, before limit: UInt64 = .max, as owner: String? = nil, in txn: some TransactionReading, _ body: (Envelope, UInt64) throws -> Void
    ) throws {
        let owner = owner ?? lead
        try reader.forEach(stream: lead, in: txn) { record in
            guard record.position < limit else { return }
            var event = try LeadStore.event(from: record)
            event.lead = owner
            try body(event, record.position)
            if let duplicate = LeadStore.mergedDuplicate(event) {
                try forEachEvent(of: duplicate, before: record.position, as: owner, in: txn, body)
            }
            guard event.type == .identityLinked, let visitor = event.data["visitor"]?.stringValue else { return }
            let link = record.position
            try reader.forEach(stream: Envelope.visitorStream(visitor), in: txn) { joined in
                guard joined.position < link, !Self.isLink(payload: joined.payload) else { return }
                var event = try LeadStore.event(from: joined)
                event.lead = owner
                try body(event, joined.position)
            }
        }
    }
}
