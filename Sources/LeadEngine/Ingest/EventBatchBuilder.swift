import EventLog
import EventTranscoder
import LeadDomain
import LedgerJSON

/// Events that arrive one JSON object at a time (the server's request bodies) gathered into
/// a batch for the log, by the paths bulk ingest takes: the transcoder for a simple event,
/// the JSON tree and `Envelope` for the rest, so both accept and store exactly the same.
public struct EventBatchBuilder {
    public private(set) var batch: PendingBatch
    private let scratch = EventTranscoder.Scratch()

    public enum Outcome {
        /// In the batch, with this id.
        case added(id: String)
        /// Valid JSON that is not a valid event.
        case refused(EnvelopeError)
    }

    public init(reservingRecords records: Int, bytes: Int) {
        batch = PendingBatch(reservingRecords: records, bytes: bytes)
    }

    /// Adds the event `json` holds (one JSON object's text). Throws only when it is not JSON.
    public mutating func add(_ json: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> Outcome {
        if Ingestor.transcode(jsonLine: json, scratch: scratch, into: &batch) {
            return .added(id: batch.idString(at: batch.count - 1))
        }
        return add(try JSONParser.parse(json))
    }

    /// Adds the event of a JSON value already parsed.
    public mutating func add(_ value: JSONValue) -> Outcome {
        do {
            let event = try Envelope(json: value)
            batch.append(LeadStore.pending(event))
            return .added(id: event.id)
        } catch {
            return .refused(error)
        }
    }
}
