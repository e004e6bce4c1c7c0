import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// Lead merges (`lead.merged`), built like identity links: the merge event in the survivor's
/// stream (data `duplicate`) applies to the survivor the duplicate's events stored before
/// it, each at its own time and position — the duplicate's state and journey are rebuilt from
/// its stream (`rebuiltLead`) and joined to the survivor's (`Merge.absorb`) — and its
/// follow-up, a marker in the duplicate's stream (data `duplicate` and `into`), leaves the
/// duplicate's row as a pointer to the survivor (`LeadState.mergedInto`, no journey). From
/// then on the duplicate's events are admitted into the survivor's stream.
///
/// The duplicate's state is rebuilt from the log, never read from its row: a replay sharded
/// by lead may not have projected the duplicate yet (another shard's), and the log is the
/// same for every shard, so live and rebuilt projections agree byte for byte. A merge runs as
/// a serial group (`requiresSerial`), so the duplicate's stream is complete in its transaction.
extension LifecycleProjection {
    /// How the ids of the engine's markers in a duplicate's stream begin (`$`: no input id can).
    static let mergeMarkerPrefix = "$m/"

    /// A `lead.merged`, or a `sales.rejected` that names `duplicateOf` (its follow-up merges).
    func mayMerge(_ record: PendingView) -> Bool {
        let payload = record.payload
        guard payload.count > 1 else { return false }
        if payload[1] == EventType.leadMerged.code { return true }
        guard payload[1] == EventType.salesRejected.code else { return false }
        let event = DecodedEvent.of(record.attachment)?.event
            ?? (try? EventCodec.decode(payload, id: record.idString, lead: record.streamString))
        return event?.data["duplicateOf"] != nil
    }

    /// The lead `lead` ended in: itself, or the survivor at the end of its chain of merges.
    func finalSurvivor(of lead: String, in txn: some TransactionReading) throws -> String {
        var current = lead
        // (Merges never make a cycle — see `Merge.refusal` — the bound only guards the loop.)
        for _ in 0..<10_000 {
            guard let into = try cachedLead(current, in: txn)?.state.mergedInto else { return current }
            current = into
        }
        return current
    }

    /// An event for a merged-away lead: admitted as the final survivor's, with its checks.
    func admitForSurvivor(_ event: Envelope, in txn: some TransactionReading) throws -> AdmitDecision {
        guard let lead = event.lead else { return .accept }
        var moved = Self.moved(event, to: try finalSurvivor(of: lead, in: txn))
        switch try moved.withView({ try admit($0, in: txn) }) {
        case .accept: return .replace(moved)
        case .attach(let attachment):
            moved.attachment = attachment
            return .replace(moved)
        case .replace(let replacement): return .replace(replacement)
        case .reject(let reason): return .reject(reason: reason)
        }
    }

    /// `admit` for a `lead.merged` in `event.lead`'s stream (`survivor` its cached lead).
    func admitMerge(_ event: Envelope, survivor: CachedLead?, id: UnsafeRawBufferPointer, in txn: some TransactionReading) throws -> String? {
        guard let duplicate = event.data["duplicate"]?.stringValue, let lead = event.lead else { return nil }
        if event.data["into"] != nil {
            // The marker is the engine's follow-up of a merge; input cannot write one.
            return id.first == Envelope.reservedIDPrefix
                ? nil : "lead.merged \"\(event.id)\" refused: data.into is written by the engine in the duplicate's stream; send the merge to the survivor's stream with data.duplicate only"
        }
        return try mergeRefusal(id: event.id, duplicate: duplicate, into: lead, survivor: survivor, in: txn)
    }

    /// `admit` for a `sales.rejected` naming `duplicateOf`: its reason must be `duplicate`, and
    /// the merge it asks for must be allowed (else the rejection is refused with the merge's
    /// reason, rather than stored without its merge).
    func duplicateRejectionRefusal(_ event: Envelope, cached: CachedLead?, in txn: some TransactionReading) throws -> String? {
        guard let survivor = event.data["duplicateOf"]?.stringValue, let lead = event.lead else { return nil }
        guard event.data["reason"] == .string("duplicate") else {
            return "sales.rejected \"\(event.id)\" refused: data.duplicateOf is only for data.reason \"duplicate\""
        }
        return try mergeRefusal(id: event.id, duplicate: lead, into: survivor, survivor: cachedLead(survivor, in: txn), in: txn)
    }

    private func mergeRefusal(id: String, duplicate: String, into lead: String, survivor: CachedLead?, in txn: some TransactionReading) throws -> String? {
        let duplicateState = try cachedLead(duplicate, in: txn)?.state
        var ends: [String: String] = [:]
        for start in [lead, duplicate] { ends[start] = try finalSurvivor(of: start, in: txn) }
        return Merge.refusal(
            id: id, duplicate: duplicate, into: lead, survivorState: survivor?.state, duplicateState: duplicateState,
            resolve: { ends[$0] ?? $0 })
    }

    /// The follow-ups of a merge (the duplicate's marker) or of a duplicate rejection (the
    /// merge it asks for).
    func mergeFollowUp(after record: RecordView, attachment: (any RecordAttachment)?) throws -> PendingRecord? {
        guard record.payload.count > 1,
              record.payload[1] == EventType.leadMerged.code || record.payload[1] == EventType.salesRejected.code
        else { return nil }
        let event = try DecodedEvent.of(attachment)?.event ?? LeadStore.event(from: record)
        guard let lead = event.lead else { return nil }
        if event.type == .salesRejected {
            guard let survivor = event.data["duplicateOf"]?.stringValue else { return nil }
            return LeadStore.pending(Envelope(
                id: event.id + "#merge", type: .leadMerged, lead: survivor, at: event.at, actor: event.actor,
                data: ["duplicate": .string(lead), "reason": .string("sales.rejected duplicate")]))
        }
        guard event.data["into"] == nil, let duplicate = event.data["duplicate"]?.stringValue else { return nil }
        return LeadStore.pending(Envelope(
            id: Self.mergeMarkerPrefix + event.id, type: .leadMerged, lead: duplicate, at: event.at, actor: event.actor,
            data: ["duplicate": .string(duplicate), "into": .string(lead)]))
    }

    /// Applies a stored `lead.merged` to its lead (after the lifecycle counted it): the
    /// survivor absorbs the duplicate; the duplicate, at its marker, becomes a pointer.
    func applyMerge(
        _ event: Envelope, to cached: CachedLead, position: UInt64, in txn: some TransactionReading, interner: Interner, internAt: UInt64
    ) throws {
        guard let duplicate = event.data["duplicate"]?.stringValue else { return }
        if let into = event.data["into"]?.stringValue {
            cached.state.mergedInto = into
            cached.journey = nil
            cached.journeyLoaded = true
            return
        }
        guard let absorbed = try rebuiltLead(duplicate, before: position, in: txn, interner: interner, internAt: internAt) else { return }
        try cached.loadProfile()
        let duplicateWins = Merge.advancement(absorbed.state.stage) > Merge.advancement(cached.state.stage)
        Merge.absorb(absorbed.state, into: &cached.state)
        if let theirs = absorbed.journey {
            if cached.journey == nil {
                cached.journey = theirs
            } else {
                Merge.absorb(theirs, into: &cached.journey!, duplicateWins: duplicateWins)
            }
        }
        cached.profileChanged()
        live?.rescored(cached)
    }

    /// `lead`'s state and journey from its events stored before `position` (with whatever it
    /// absorbed itself: visitors, earlier merges), projected apart from every cached lead.
    ///
    /// Dimension values are interned at the merge's position (`internAt`), never at their
    /// events' own: those are the duplicate's shard's to note in a replay. A shard noting a
    /// value at an earlier position than where it first met it would change the order in
    /// which values first met at one position get their ids; at the merge's position, every
    /// value met here was noted earlier by the shard whose stream holds it, as live appends
    /// met them.
    private func rebuiltLead(
        _ lead: String, before position: UInt64, in txn: some TransactionReading, interner: Interner, internAt: UInt64
    ) throws -> CachedLead? {
        var events: [(payload: [UInt8], id: [UInt8], stream: [UInt8], position: UInt64)] = []
        try reader.forEach(stream: lead, in: txn) { record in
            guard record.position < position else { return }
            events.append((Array(record.payload), Array(record.id), Array(record.stream), record.position))
        }
        let scratch = LifecycleProjection(scratchOf: self)
        for event in events {
            try event.payload.withUnsafeBytes { payload in
                try event.id.withUnsafeBytes { id in
                    try event.stream.withUnsafeBytes { stream in
                        try scratch.apply(stored: payload, id: id, lead: stream, position: event.position, in: txn, interner: interner, internAt: internAt)
                    }
                }
            }
        }
        guard let rebuilt = try scratch.cachedLead(lead, in: txn) else { return nil }
        try rebuilt.loadProfile()
        return rebuilt
    }
}
