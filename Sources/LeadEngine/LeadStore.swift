import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// A LeadLedger store: the event log of lead events in one directory, with the domain's
/// validation and projections running inside every append.
public final class LeadStore: Sendable {
    public let log: EventLog
    public let path: String

    public struct Options: Sendable {
        public var log = EventLog.Options()
        public init() {}
    }

    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.log = try EventLog(path: path, options: options.log)
    }

    public func close() {
        log.close()
    }

    /// Turns a validated event into what the log stores.
    public static func pending(_ event: Envelope) -> PendingRecord {
        PendingRecord(id: event.id, stream: event.stream, payload: EventCodec.encode(event), attachment: event)
    }

    /// Appends events (blocking until the commit is durable).
    public func append(_ events: [Envelope]) throws -> [AppendOutcome] {
        try log.appendAndWait(events.map(Self.pending))
    }

    /// Decodes a stored record back into an event.
    public static func event(from record: RecordView) throws -> Envelope {
        try EventCodec.decode(record.payload, id: record.idString, lead: record.streamString)
    }

    public static func event(from record: StoredRecord) throws -> Envelope {
        try record.payload.withUnsafeBytes { payload in
            try EventCodec.decode(payload, id: record.id, lead: record.stream)
        }
    }
}
