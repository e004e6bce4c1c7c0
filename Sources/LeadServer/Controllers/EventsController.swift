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
        let type = request.headers.mediaType()
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
        let parsed = try body.withUnsafeReadableBytes { bytes in
            try Self.parse(bytes, ndjson: ndjson, maxEvents: limits.maxEventsPerRequest)
        }

        // What is valid goes to the log, in order; the rest is answered as rejected.
        let stored: [AppendOutcome]
        do {
            let (log, batch) = (store.log, parsed.batch)
            stored = batch.isEmpty ? [] : try await gate.withAppend { try await log.append(batch) }
        } catch {
            // The client sent nothing wrong: a store that cannot commit is the server's fault.
            context.logger.error("append failed", metadata: ["error": .string(StoreFault.describe(error, store: store.path))])
            throw Problem(.serviceUnavailable, "the store could not commit: \(StoreFault.describe(error, store: store.path)); \(StoreFault.whatWasStored(error)), retry later")
        }
        // The answer, written as bytes: with a hundred events a request, building it as a
        // JSON tree cost as much as storing them.
        var outcomes = stored.makeIterator()
        var results: [UInt8] = []
        results.reserveCapacity(parsed.entries.count * 64)
        var appended = 0, duplicates = 0, rejected = 0
        for (index, entry) in parsed.entries.enumerated() {
            results.append(contentsOf: index == 0 ? #"{"index":"#.utf8 : #",{"index":"#.utf8)
            JSONWriter.writeInteger(Int64(index), into: &results)
            switch entry {
            case .refused(let error):
                rejected += 1
                results.append(contentsOf: #","status":"rejected","reason":"#.utf8)
                JSONWriter.writeString(error.description, into: &results)
            case .added(let id):
                results.append(contentsOf: #","id":"#.utf8)
                JSONWriter.writeString(id, into: &results)
                switch outcomes.next() {
                case .appended(let position)?:
                    appended += 1
                    results.append(contentsOf: #","status":"appended","position":"#.utf8)
                    JSONWriter.writeInteger(Int64(truncatingIfNeeded: position), into: &results)
                case .duplicate(let position)?:
                    duplicates += 1
                    results.append(contentsOf: #","status":"duplicate","position":"#.utf8)
                    JSONWriter.writeInteger(Int64(truncatingIfNeeded: position), into: &results)
                case .rejected(let reason)?:
                    rejected += 1
                    results.append(contentsOf: #","status":"rejected","reason":"#.utf8)
                    JSONWriter.writeString(reason, into: &results)
                case .conflict(let expected, let actual)?:
                    rejected += 1
                    results.append(contentsOf: #","status":"rejected","reason":"#.utf8)
                    JSONWriter.writeString("the lead has \(actual) events, expected \(expected)", into: &results)
                case nil:
                    // (The log answers one outcome per record; never reached.)
                    results.append(contentsOf: #","status":"rejected","reason":"not stored""#.utf8)
                }
            }
            results.append(UInt8(ascii: "}"))
        }
        metrics.recordAppend(appended: appended, duplicates: duplicates, rejected: rejected)
        var answer: [UInt8] = []
        answer.reserveCapacity(results.count + 80)
        answer.append(contentsOf: #"{"appended":"#.utf8)
        JSONWriter.writeInteger(Int64(appended), into: &answer)
        answer.append(contentsOf: #","duplicates":"#.utf8)
        JSONWriter.writeInteger(Int64(duplicates), into: &answer)
        answer.append(contentsOf: #","rejected":"#.utf8)
        JSONWriter.writeInteger(Int64(rejected), into: &answer)
        answer.append(contentsOf: #","results":["#.utf8)
        answer.append(contentsOf: results)
        answer.append(contentsOf: "]}\n".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }

    /// A body's events, in order: each in the batch for the log, or refused with the reason.
    struct Parsed {
        var batch: PendingBatch
        var entries: [EventBatchBuilder.Outcome]
    }

    /// Where the line starting at `start` ends: its newline, or the end of the body. (With
    /// `memchr`: a search byte by byte was a twentieth of a thousand-event request's
    /// instructions.)
    static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard start < bytes.count, let base = bytes.baseAddress, let newline = memchr(base + start, 0x0A, bytes.count - start) else {
            return bytes.count
        }
        return base.distance(to: UnsafeRawPointer(newline))
    }

    /// The events of a body, each added to the batch or refused with the reason; a body that
    /// is not JSON (or a line that is not) is a 400 naming where.
    static func parse(_ bytes: UnsafeRawBufferPointer, ndjson: Bool, maxEvents: Int) throws -> Parsed {
        var builder = EventBatchBuilder(reservingRecords: min(maxEvents, bytes.count / 64 + 1), bytes: bytes.count)
        var entries: [EventBatchBuilder.Outcome] = []
        if ndjson {
            var lineNumber = 0
            var lineStart = 0
            while lineStart <= bytes.count {
                let lineEnd = Self.lineEnd(in: bytes, from: lineStart)
                defer { lineStart = lineEnd + 1 }
                lineNumber += 1
                var line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
                if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
                guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
                guard entries.count < maxEvents else {
                    throw Problem(.contentTooLarge, "more than \(maxEvents) events in one request: send them in several")
                }
                do {
                    entries.append(try builder.add(line))
                } catch {
                    throw Problem(.badRequest, "line \(lineNumber) is not JSON: \(error)", extra: ["line": .integer(lineNumber)])
                }
            }
            return Parsed(batch: builder.batch, entries: entries)
        }
        // Each element by the fastest path it allows; a body that is not plainly an array is
        // parsed whole, which says what is wrong with it.
        if let elements = JSONParser.elementRanges(ofArray: bytes) {
            guard elements.count <= maxEvents else {
                throw Problem(.contentTooLarge, "\(elements.count) events in one request, more than \(maxEvents): send them in several")
            }
            entries.reserveCapacity(elements.count)
            do {
                for range in elements {
                    entries.append(try builder.add(UnsafeRawBufferPointer(rebasing: bytes[range])))
                }
                return Parsed(batch: builder.batch, entries: entries)
            } catch {}
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw Problem(.badRequest, "the body is not JSON: \(error)")
        }
        guard case .array(let elements) = value else {
            throw Problem(.badRequest, "the body must be a JSON array of events (or NDJSON, with Content-Type: application/x-ndjson)")
        }
        guard elements.count <= maxEvents else {
            throw Problem(.contentTooLarge, "\(elements.count) events in one request, more than \(maxEvents): send them in several")
        }
        builder = EventBatchBuilder(reservingRecords: elements.count, bytes: bytes.count)
        return Parsed(batch: builder.batch, entries: elements.map { builder.add($0) })
    }
}
