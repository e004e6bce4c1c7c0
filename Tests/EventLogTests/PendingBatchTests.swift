import EventLog
import Foundation
import Testing
import TestSupport

@Suite("Pending batches: records packed for the writer")
struct PendingBatchTests {
    /// An attachment: what an appender hands the hook with a record.
    final class Note: RecordAttachment {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// Records with and without an expected version or attachment, in one batch: each view
    /// gives back exactly its own record's fields.
    @Test func viewsGiveBackEachRecordWithItsOwnExtras() throws {
        let records = [
            record("a", stream: "L-1", payload: ""),
            PendingRecord(id: "b", stream: "L-2", payload: [1, 2, 3], expectedVersion: 4),
            record("c", stream: "L-1"),
            PendingRecord(id: "d", stream: "L-3", payload: [9], attachment: Note("attached")),
            record("e", stream: "L-2"),
        ]
        let batch = PendingBatch(records)
        #expect(batch.count == 5)
        #expect(batch.hasExpectedVersions)
        var seen: [(String, String, [UInt8], Int?, String?)] = []
        batch.forEachView { index, view in
            #expect(index == seen.count)
            seen.append((view.idString, view.streamString, Array(view.payload), view.expectedVersion, (view.attachment as? Note)?.text))
        }
        #expect(seen.map(\.0) == ["a", "b", "c", "d", "e"])
        #expect(seen.map(\.1) == ["L-1", "L-2", "L-1", "L-3", "L-2"])
        #expect(seen.map(\.2) == records.map(\.payload))
        #expect(seen.map(\.3) == [nil, 4, nil, nil, nil])
        #expect(seen.map(\.4) == [nil, nil, nil, "attached", nil])
        #expect(batch[3].id == "d" && batch[3].payload == [9] && (batch[3].attachment as? Note)?.text == "attached")
        #expect(!PendingBatch([record("x")]).hasExpectedVersions)
    }

    /// What bulk ingest does: the payload written straight into the batch, after records
    /// appended as values, and read back in place.
    @Test func aPayloadWrittenIntoTheBatchIsStoredAsWritten() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        var batch = PendingBatch(reservingRecords: 2, bytes: 64)
        batch.append(record("first", stream: "s-1", payload: "one"))
        Array("second".utf8).withUnsafeBytes { id in
            Array("s-2".utf8).withUnsafeBytes { stream in
                Array("two".utf8).withUnsafeBytes { batch.append(id: id, stream: stream, payload: $0) }
            }
        }
        let done = DispatchSemaphore(value: 0)
        let outcomes = Locked<[AppendOutcome]?>(nil)
        log.submit(batch) { result in
            outcomes.set(try? result.get())
            done.signal()
        }
        done.wait()
        #expect(outcomes.value == [.appended(position: 1), .appended(position: 2)])
        let stored = try log.records(from: 1, limit: 10)
        #expect(stored.map(\.id) == ["first", "second"])
        #expect(stored.map(\.stream) == ["s-1", "s-2"])
        #expect(stored.map { String(decoding: $0.payload, as: UTF8.self) } == ["one", "two"])
    }

    /// What a sealer does: runs of another batch's records copied with their extras, and a
    /// payload written in place into memory reserved for it (only what was written counts).
    @Test func runsCopiedAndPayloadsWrittenInPlaceKeepEachRecord() throws {
        let source = PendingBatch([
            record("a", stream: "L-1", payload: "one"),
            PendingRecord(id: "b", stream: "L-2", payload: [1, 2, 3], expectedVersion: 4),
            record("c", stream: "L-1", payload: "three"),
            PendingRecord(id: "d", stream: "L-3", payload: [9], attachment: Note("attached")),
            record("e", stream: "L-2", payload: "five"),
        ])
        var out = PendingBatch()
        out.append(contentsOf: source, records: 0..<2)
        Array("c".utf8).withUnsafeBytes { id in
            Array("L-1".utf8).withUnsafeBytes { stream in
                out.append(id: id, stream: stream, payloadCapacity: 100) { memory in
                    memory.copyBytes(from: "sealed".utf8)
                    return 6
                }
            }
        }
        out.append(contentsOf: source, records: 3..<5)
        out.append(contentsOf: source, records: 5..<5)
        #expect(out.count == 5)
        #expect(out.hasExpectedVersions)
        var seen: [(String, String, [UInt8], Int?, String?)] = []
        out.forEachView { _, view in
            seen.append((view.idString, view.streamString, Array(view.payload), view.expectedVersion, (view.attachment as? Note)?.text))
        }
        #expect(seen.map(\.0) == ["a", "b", "c", "d", "e"])
        #expect(seen.map(\.1) == ["L-1", "L-2", "L-1", "L-3", "L-2"])
        #expect(seen.map(\.2) == [Array("one".utf8), [1, 2, 3], Array("sealed".utf8), [9], Array("five".utf8)])
        #expect(seen.map(\.3) == [nil, 4, nil, nil, nil])
        #expect(seen.map(\.4) == [nil, nil, nil, "attached", nil])
        #expect(out.byteCount == source.byteCount + 1)
    }
}

/// A value set on one thread and read on another after a semaphore.
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}
