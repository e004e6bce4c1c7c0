import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// One shard of a rescore's simulation: the lifecycle and live scoring of its leads under
/// other rules, fed their records in log order. It scores through the same `LiveScorer` as
/// the live projection, and applies the `lead.qualified` events the projection would have
/// appended; the engine's own qualifications in the log are left out. A merge is simulated as
/// the projection applies it: the duplicate rebuilt from its stream and absorbed.
final class RescoreShard {
    let live: LiveScorer
    private let reader: LogReader
    /// The time of the latest lead event seen.
    private(set) var latest = Timestamp(microseconds: .min)
    let simulated = LeadTable<ScoredLead>()
    /// The lead last looked up by its bytes.
    private var recent = RecentLead<ScoredLead>()

    init(_ live: LiveScorer, reader: LogReader) {
        self.live = live
        self.reader = reader
    }

    /// Applies the next of the shard's records (`txn` reads the rest of the log).
    func apply(_ record: RecordView, in txn: some TransactionReading) throws {
        let view = try EventView(record.payload)
        if view.type != .rulesPublished && view.at > latest { latest = view.at }
        if view.type.isTouch {
            // Most of the log: applied without decoding the touch's data.
            let lead: ScoredLead
            if let found = recent.value(record.stream) {
                lead = found
            } else {
                guard let found = simulated.value(record.stream, hash: LeadTable<ScoredLead>.hash(record.stream)) else { return }
                recent.remember(found, as: record.stream)
                lead = found
            }
            Lifecycle.applyTouch(at: view.at, to: &lead.state)
            live.recordTouch(view, position: record.position, of: lead)
            try qualify(lead, after: view.type, at: view.at, trigger: record.idString, position: record.position)
            return
        }
        if view.type == .leadCaptured {
            // A new lead, read in place (a capture of a known lead is refused).
            let lead = record.streamString
            let hash = LeadTable<ScoredLead>.hash(lead)
            guard simulated.value(lead, hash: hash) == nil else { return }
            let state = Lifecycle.captured(
                lead: lead, at: view.at, actor: view.actor, hasChannel: view.hasChannel(view.touchFields), position: record.position)
            let current = ScoredLead(state: state, encodedProfile: Array(view.encodedData))
            simulated.set(current, for: lead, hash: hash)
            live.recordCapture(view, position: record.position, of: current)
            try qualify(current, after: .leadCaptured, at: view.at, trigger: record.idString, position: record.position)
            return
        }
        let event = try LeadStore.event(from: record)
        guard let lead = event.lead else { return }
        if event.type == .leadQualified && event.data["by"] == .string("rules") { return }
        guard let current = simulated.value(lead) else { return }  // (only a capture starts a lead)
        let profileChanges = event.type == .leadEnriched
        if profileChanges { try current.loadProfile() }
        guard Lifecycle.refusal(of: event, given: current.state) == nil else { return }
        Lifecycle.apply(event, position: record.position, to: &current.state)
        if profileChanges { current.profileChanged() }
        live.record(event, position: record.position, of: current)
        if event.type == .leadMerged, let duplicate = event.data["duplicate"]?.stringValue {
            if let into = event.data["into"]?.stringValue {
                current.state.mergedInto = into
                return
            }
            try absorb(duplicate, before: record.position, into: current, in: txn)
        }
        try qualify(current, after: event.type, at: event.at, trigger: event.id, position: record.position)
    }

    /// The duplicate's simulation from its stream up to the merge (with its own earlier
    /// merges), joined to the survivor's as the projection joins them (`Merge.absorb`).
    private func absorb(_ duplicate: String, before position: UInt64, into survivor: ScoredLead, in txn: some TransactionReading) throws {
        var records: [(bytes: [UInt8], position: UInt64)] = []
        try reader.forEach(stream: duplicate, in: txn) { record in
            guard record.position < position else { return }
            records.append((Array(record.stored), record.position))
        }
        let scratch = RescoreShard(live, reader: reader)
        for record in records {
            try record.bytes.withUnsafeBytes { bytes in
                try scratch.apply(LogReader.record(at: record.position, stored: bytes), in: txn)
            }
        }
        guard let absorbed = scratch.simulated.value(duplicate) else { return }
        try absorbed.loadProfile()
        try survivor.loadProfile()
        Merge.absorb(absorbed.state, into: &survivor.state)
        survivor.profileChanged()
        live.rescored(survivor)
    }

    /// Applies the qualification live scoring would have appended after this event, if any.
    /// (`trigger`, the triggering event's id, is made only for a qualification.)
    private func qualify(
        _ lead: ScoredLead, after type: EventType, at: Timestamp, trigger: @autoclosure () -> String, position: UInt64
    ) throws {
        guard let qualification = try live.qualification(after: type, at: at, of: lead) else { return }
        Lifecycle.apply(live.qualifiedEvent(lead: lead.state.lead, trigger: trigger(), qualification), position: position, to: &lead.state)
    }
}
