import EventLog
import Foundation
import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON
import Logging

/// `POST /v1/events` — appends a JSON array or NDJSON of envelopes and answers, after the
/// commit is durable, with the counts and one outcome per event. Concurrent requests share
/// the log's group commit.
struct EventsController {
    let store: LeadStore
    let limits: ServerConfiguration.Limits
    let metrics: ServerMetrics
    let gate: WriteGate

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.post("events", use: append)
    }

    @Sendable func append(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let ndjson: Bool
        switch type {
        case "application/json": ndjson = false
        case "application/x-ndjson", "application/jsonl", "application/jsonlines": ndjson = true
        default:
            throw Problem(.unsupportedMediaType, "send the events as application/json (an array) or application/x-ndjson (one per line); got \(type.isEmpty ? "no Content-Type" : type)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limits.maxBodyBytes)
        } catch {
            throw Problem(.contentTooLarge, "the body is larger than \(limits.maxBodyBytes) bytes: send fewer events per request")
        }
        let parsed = try Self.parse(Array(body.readableBytesView), ndjson: ndjson, maxEvents: limits.maxEventsPerRequest)

        // What is valid goes to the log, in order; the rest is answered as rejected.
        var records: [PendingRecord] = []
        records.reserveCapacity(parsed.count)
        for item in parsed {
            if case .success(let event) = item { records.append(LeadStore.pending(event)) }
        }
        let stored: [AppendOutcome]
        do {
            let (log, batch) = (store.log, records)
            stored = batch.isEmpty ? [] : try await gate.withAppend { try await log.append(batch) }
        } catch {
            // The client sent nothing wrong: a store that cannot commit is the server's fault.
            context.logger.error("append failed", metadata: ["error": .string(StoreFault.describe(error, store: store.path))])
            throw Problem(.serviceUnavailable, "the store could not commit: \(StoreFault.describe(error, store: store.path)); nothing of this request was stored, retry later")
        }
        var outcomes = stored.makeIterator()
        var results: [JSONValue] = []
        var appended = 0, duplicates = 0, rejected = 0
        for (index, item) in parsed.enumerated() {
            switch item {
            case .failure(let error):
                rejected += 1
                results.append(["index": .integer(index), "status": "rejected", "reason": .string(error.description)])
            case .success(let event):
                guard let outcome = outcomes.next() else { continue }
                var result: JSONObject = ["index": .integer(index), "id": .string(event.id)]
                switch outcome {
                case .appended(let position):
                    appended += 1
                    result["status"] = "appended"
                    result["position"] = .integer(position)
                case .duplicate(let position):
                    duplicates += 1
                    result["status"] = "duplicate"
                    result["position"] = .integer(position)
                case .rejected(let reason):
                    rejected += 1
                    result["status"] = "rejected"
                    result["reason"] = .string(reason)
                case .conflict(let expected, let actual):
                    rejected += 1
                    result["status"] = "rejected"
                    result["reason"] = .string("the lead has \(actual) events, expected \(expected)")
                }
                results.append(.object(result))
            }
        }
        metrics.recordAppend(appended: appended, duplicates: duplicates, rejected: rejected)
        return jsonResponse([
            "appended": .integer(appended), "duplicates": .integer(duplicates), "rejected": .integer(rejected),
            "results": .array(results),
        ])
    }

    /// The events of a body, each parsed or refused with the reason; a body that is not
    /// JSON (or a line that is not) is a 400 naming where.
    static func parse(_ bytes: [UInt8], ndjson: Bool, maxEvents: Int) throws -> [Result<Envelope, EnvelopeError>] {
        var items: [Result<Envelope, EnvelopeError>] = []
        if ndjson {
            var lineNumber = 0
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNumber += 1
                var text = line[...]
                if text.last == 0x0D { text = text.dropLast() }
                guard text.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
                guard items.count < maxEvents else {
                    throw Problem(.contentTooLarge, "more than \(maxEvents) events in one request: send them in several")
                }
                let value: JSONValue
                do {
                    value = try Array(text).withUnsafeBytes { try JSONParser.parse($0) }
                } catch {
                    throw Problem(.badRequest, "line \(lineNumber) is not JSON: \(error)", extra: ["line": .integer(lineNumber)])
                }
                items.append(Result { () throws(EnvelopeError) in try Envelope(json: value) })
            }
            return items
        }
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBytes { try JSONParser.parse($0) }
        } catch {
            throw Problem(.badRequest, "the body is not JSON: \(error)")
        }
        guard case .array(let elements) = value else {
            throw Problem(.badRequest, "the body must be a JSON array of events (or NDJSON, with Content-Type: application/x-ndjson)")
        }
        guard elements.count <= maxEvents else {
            throw Problem(.contentTooLarge, "\(elements.count) events in one request, more than \(maxEvents): send them in several")
        }
        return elements.map { element in Result { () throws(EnvelopeError) in try Envelope(json: element) } }
    }
}
