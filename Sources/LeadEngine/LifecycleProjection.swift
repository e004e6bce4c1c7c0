import EventLog
import LeadDomain
import LMDB

/// The lifecycle projection: validates every lead event against its lead's state and keeps
/// that state (stage, owner, profile, activity, stage history) in the `leads` table, in the
/// same write transaction as the append. Runs on the log's writer thread only.
///
/// Within a transaction the states it touched are cached and written back, in key order,
/// just before the commit; the cache is dropped after every commit or abort, so memory does
/// not grow with the number of leads.
final class LifecycleProjection: AppendHook, @unchecked Sendable {
    static let tableName = "leads"
    /// Bump the suffix when the projected state changes shape: the store rebuilds it.
    static let checkpoint = "lifecycle.v1"

    let leads: Table
    private var cache: [String: LeadState] = [:]
    private var missing: Set<String> = []
    private var dirty: Set<String> = []

    var checkpointName: String? { Self.checkpoint }

    init(environment: Environment) throws {
        leads = try environment.table(Self.tableName)
    }

    /// The state of `lead` as of everything applied so far in this transaction.
    func state(of lead: String, in txn: some TransactionReading) throws -> LeadState? {
        if let cached = cache[lead] { return cached }
        if missing.contains(lead) { return nil }
        let stored = try Self.read(lead, from: leads, in: txn)
        if let stored { cache[lead] = stored } else { missing.insert(lead) }
        return stored
    }

    static func read(_ lead: String, from table: Table, in txn: some TransactionReading) throws -> LeadState? {
        try lead.withUTF8Bytes { key in
            try txn.get(table, key: key).map { try LeadStateCodec.decode($0, lead: lead) }
        }
    }

    static func event(of record: PendingRecord) throws -> Envelope {
        if let event = record.attachment as? Envelope { return event }
        return try record.payload.withUnsafeBytes { try EventCodec.decode($0, id: record.id, lead: record.stream) }
    }

    func admit(_ record: inout PendingRecord, in txn: WriteTransaction) throws -> AdmitDecision {
        let event = try Self.event(of: record)
        guard let lead = event.lead else { return .accept }
        if let reason = Lifecycle.refusal(of: event, given: try state(of: lead, in: txn)) {
            return .reject(reason: reason)
        }
        return .accept
    }

    func didStore(_ record: RecordView, attachment: (any Sendable)?, in txn: WriteTransaction) throws {
        let event = try (attachment as? Envelope) ?? LeadStore.event(from: record)
        try apply(event, position: record.position, in: txn)
    }

    func apply(_ event: Envelope, position: UInt64, in txn: some TransactionReading) throws {
        guard let lead = event.lead else { return }
        var state = try state(of: lead, in: txn)
        Lifecycle.apply(event, position: position, to: &state)
        if let state {
            cache[lead] = state
            missing.remove(lead)
            dirty.insert(lead)
        }
    }

    func willCommit(in txn: WriteTransaction) throws {
        for lead in dirty.sorted() {
            guard let state = cache[lead] else { continue }
            let bytes = LeadStateCodec.encode(state)
            try lead.withUTF8Bytes { key in
                try bytes.withUnsafeBytes { try txn.put(leads, key: key, value: $0) }
            }
        }
        forget()
    }

    func didAbort() {
        forget()
    }

    private func forget() {
        cache.removeAll(keepingCapacity: true)
        missing.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
    }
}
