import EventLog
import Foundation
import LMDB
import Testing
import TestSupport

func record(_ id: String, stream: String = "s-1", payload: String? = nil, expectedVersion: Int? = nil) -> PendingRecord {
    PendingRecord(id: id, stream: stream, payload: Array((payload ?? "payload of \(id)").utf8), expectedVersion: expectedVersion)
}

@Suite("Event log: append, read, idempotency, streams")
struct EventLogTests {
    @Test func appendsAndReadsRoundTripWithGaplessPositions() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let first = try log.appendAndWait((1...3).map { record("e\($0)") })
        let second = try log.appendAndWait((4...6).map { record("e\($0)", stream: "s-2") })
        #expect(first == [.appended(position: 1), .appended(position: 2), .appended(position: 3)])
        #expect(second.map(\.position) == [4, 5, 6])
        let stored = try log.records(from: 1, limit: 100)
        #expect(stored.map(\.position) == [1, 2, 3, 4, 5, 6])
        #expect(stored.map(\.id) == ["e1", "e2", "e3", "e4", "e5", "e6"])
        #expect(stored[3].stream == "s-2")
        #expect(String(decoding: stored[4].payload, as: UTF8.self) == "payload of e5")
        #expect(try log.lastPosition == 6)
    }

    @Test func aDuplicateIDIsStoredOnceWithinAndAcrossBatches() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let first = try log.appendAndWait([record("a"), record("b"), record("a", payload: "second copy")])
        #expect(first == [.appended(position: 1), .appended(position: 2), .duplicate(position: 1)])
        let second = try log.appendAndWait([record("b"), record("c")])
        #expect(second == [.duplicate(position: 2), .appended(position: 3)])
        #expect(try log.lastPosition == 3)
        #expect(String(decoding: try log.record(at: 1)!.payload, as: UTF8.self) == "payload of a")
        #expect(try log.position(ofID: "c") == 3)
        #expect(try log.position(ofID: "zzz") == nil)
    }

    @Test func longIDsAreIndexedByTheirHash() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let long = String(repeating: "x", count: 600)
        #expect(try log.appendAndWait([record(long)]) == [.appended(position: 1)])
        #expect(try log.appendAndWait([record(long)]) == [.duplicate(position: 1)])
        #expect(try log.position(ofID: long) == 1)
        #expect(try log.verify().isValid)
    }

    /// Ids in and out of order, short and long (a long id's key is its hash, which sorts
    /// after every short id's): each duplicate is found, in its own batch and in later ones.
    @Test func duplicatesAreFoundWhateverOrderTheIDsComeIn() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let long = String(repeating: "a", count: 600)
        let first = try log.appendAndWait(["m", long, "c", "m", long, "z", "c"].map { record($0) })
        #expect(first == [
            .appended(position: 1), .appended(position: 2), .appended(position: 3), .duplicate(position: 1),
            .duplicate(position: 2), .appended(position: 4), .duplicate(position: 3),
        ])
        let second = try log.appendAndWait(["b", "z", long, "n", "m"].map { record($0) })
        #expect(second == [.appended(position: 5), .duplicate(position: 4), .duplicate(position: 2), .appended(position: 6), .duplicate(position: 1)])
        #expect(try log.verify().isValid)
    }

    @Test func aStreamReadsBackInLogOrder() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait([record("1", stream: "L-1"), record("2", stream: "L-2"), record("3", stream: "L-1")])
        _ = try log.appendAndWait([record("4", stream: "L-2"), record("5", stream: "L-1")])
        #expect(try log.positions(stream: "L-1") == [1, 3, 5])
        #expect(try log.records(stream: "L-2").map(\.id) == ["2", "4"])
        #expect(try log.records(stream: "nobody").isEmpty)
        _ = try log.appendAndWait([record("6", stream: "L-single")])
        #expect(try log.positions(stream: "L-single") == [6])
        #expect(try log.records(stream: "L-single").map(\.id) == ["6"])
        #expect(try log.version(ofStream: "L-1") == 3)
        #expect(try log.streamCount() == 3)
    }

    @Test func aStreamsLastRecordIsItsNewest() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait((1...600).map { record("many-\($0)", stream: $0 % 3 == 0 ? "L-other" : "L-many") })
        _ = try log.appendAndWait([record("single", stream: "L-single")])
        try log.environment.read { (txn: ReadTransaction) throws in
            #expect(try log.reader.last(stream: "L-many", in: txn)?.id == "many-599")
            #expect(try log.reader.last(stream: "L-other", in: txn)?.id == "many-600")
            #expect(try log.reader.last(stream: "L-single", in: txn)?.position == 601)
            #expect(try log.reader.last(stream: "nobody", in: txn) == nil)
        }
    }

    @Test func expectedVersionGuardsAStream() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        #expect(try log.appendAndWait([record("a", stream: "L", expectedVersion: 0)]) == [.appended(position: 1)])
        #expect(try log.appendAndWait([record("b", stream: "L", expectedVersion: 0)]) == [.conflict(expected: 0, actual: 1)])
        // Within one batch the version counts the records before it.
        #expect(try log.appendAndWait([record("c", stream: "L", expectedVersion: 1), record("d", stream: "L", expectedVersion: 2)])
            == [.appended(position: 2), .appended(position: 3)])
        #expect(try log.lastPosition == 3)
    }

    @Test func aReopenedLogContinuesThePositionsAndTheChain() throws {
        let dir = TemporaryDirectory("log")
        do {
            let log = try EventLog(path: dir.path)
            _ = try log.appendAndWait([record("a"), record("b")])
            log.close()
        }
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        #expect(try log.appendAndWait([record("c"), record("a")]) == [.appended(position: 3), .duplicate(position: 1)])
        let report = try log.verify()
        #expect(report == VerificationReport(records: 3, failure: nil))
    }

    @Test func checkpointsCommitWithTheirTransaction() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait([record("a"), record("b")])
        #expect(try log.checkpoint("projection") == 0)
        try log.environment.write { txn in try log.setCheckpoint("projection", to: 2, in: txn) }
        #expect(try log.checkpoint("projection") == 2)
        #expect(try log.checkpoints() == ["projection": 2])
    }

    @Test func forEachStreamsInChunksAcrossShortTransactions() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait((1...1_000).map { record("e\($0)", stream: "s\($0 % 7)") })
        var positions: [UInt64] = []
        let last = try log.forEach(from: 10, through: 900, chunkSize: 64) { positions.append($0.position) }
        #expect(positions == Array(10...900))
        #expect(last == 900)
    }

    /// Records sorted out by stream, then read from their stored bytes, are the records
    /// `forEach` reads.
    @Test func recordsFoundInPlaceReadAsTheyDoInAScan() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait((1...400).map { record("e\($0)", stream: "s\($0 % 3)") })
        let (scanned, sorted) = try log.environment.read { txn in
            var scanned: [StoredRecord] = []
            try log.reader.forEach(from: 7, through: 390, in: txn) { scanned.append($0.copy()) }
            var byStream: [String: [(UInt64, UnsafeRawBufferPointer)]] = [:]
            try log.reader.forEachStored(from: 7, through: 390, in: txn) { position, stream, stored in
                byStream[String(decoding: stream, as: UTF8.self), default: []].append((position, stored))
            }
            let sorted = try byStream.values.flatMap { $0 }.map { try LogReader.record(at: $0.0, stored: $0.1).copy() }
            return (scanned, sorted.sorted { $0.position < $1.position })
        }
        #expect(scanned.count == 384)
        #expect(sorted == scanned)
    }

    /// A chunk whose records the filter all refuses does not end the scan.
    @Test func forEachWithAStreamFilterScansPastChunksItSkipsWhole() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        _ = try log.appendAndWait((1...300).map { record("e\($0)", stream: $0 <= 200 ? "skipped" : "wanted") })
        var positions: [UInt64] = []
        let last = try log.forEach(chunkSize: 64, stream: { $0.elementsEqual("wanted".utf8) }) { positions.append($0.position) }
        #expect(positions == Array(201...300))
        #expect(last == 300)
    }

    @Test func theLogGrowsItsMapAndLosesNothing() throws {
        let dir = TemporaryDirectory("log")
        var options = EventLog.Options()
        options.environment.mapSize = 128 * 1024
        let log = try EventLog(path: dir.path, options: options)
        defer { log.close() }
        let before = log.environment.mapSize
        var expected: [String] = []
        for batch in 0..<10 {
            let records = (0..<500).map { record("b\(batch)-\($0)", stream: "L-\($0 % 50)", payload: String(repeating: "p", count: 200)) }
            expected += records.map(\.id)
            let outcomes = try log.appendAndWait(records)
            #expect(outcomes.allSatisfy { $0.position != nil })
        }
        #expect(log.environment.mapSize > before)
        #expect(try log.records(from: 1, limit: 10_000).map(\.id) == expected)
        #expect(try log.verify().isValid)
    }

    @Test func concurrentAppendersGetDistinctPositionsAndEveryAcknowledgedEventIsStored() async throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let tasks = 64
        let perTask = 25
        let acknowledged = try await withThrowingTaskGroup(of: [(String, UInt64)].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var acks: [(String, UInt64)] = []
                    for n in 0..<perTask {
                        let id = "t\(task)-\(n)"
                        let outcome = try await log.append([record(id, stream: "L-\(task)")])
                        guard case .appended(let position) = outcome[0] else {
                            Issue.record("\(id) was not appended: \(outcome[0])")
                            continue
                        }
                        acks.append((id, position))
                    }
                    return acks
                }
            }
            var all: [(String, UInt64)] = []
            for try await acks in group { all += acks }
            return all
        }
        #expect(acknowledged.count == tasks * perTask)
        #expect(Set(acknowledged.map(\.1)).count == tasks * perTask)
        #expect(Set(acknowledged.map(\.1)) == Set(1...UInt64(tasks * perTask)))
        for (id, position) in acknowledged {
            #expect(try log.record(at: position)?.id == id)
        }
        // Each stream kept its own order.
        for task in 0..<tasks {
            #expect(try log.records(stream: "L-\(task)").map(\.id) == (0..<perTask).map { "t\(task)-\($0)" })
        }
        #expect(try log.verify().isValid)
    }

    @Test func appendingAfterCloseFailsClearly() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        log.close()
        #expect(throws: LogError.closed) { _ = try log.appendAndWait([record("x")]) }
    }
}

@Suite("Event log: the pipelined writer")
struct PipelinedWriterTests {
    /// Batches queued without waiting, each repeating ids of the one before it, in an order
    /// that is neither ascending nor descending: the duplicates are found while the earlier
    /// batches are still being committed.
    @Test func duplicatesAreFoundInGroupsStillBeingCommitted() throws {
        let dir = TemporaryDirectory("log")
        var options = EventLog.Options()
        options.maxRecordsPerCommit = 50
        let log = try EventLog(path: dir.path, options: options)
        defer { log.close() }
        // ids 0..<2000 in a scrambled order (7 is coprime with 2000), 40 per batch; every
        // batch also repeats the previous batch's last 10 ids.
        let order = (0..<2_000).map { ($0 * 7) % 2_000 }
        var batches: [[String]] = []
        for start in stride(from: 0, to: order.count, by: 40) {
            let fresh = order[start..<start + 40].map { "id-\($0)" }
            batches.append((batches.last.map { Array($0.suffix(10)) } ?? []) + fresh)
        }
        let firstPosition = try Self.submitWithoutWaiting(batches, to: log)
        #expect(firstPosition.count == 2_000)
        #expect(Set(firstPosition.values) == Set(1...2_000))
        #expect(log.commits >= 2_000 / 50)
        #expect(try log.verify().isValid)
    }

    /// Ids arriving in order below a key that sorts above them all (as `rules:…`, a
    /// published rules version, sorts above `L-…` leads): after the first of them they are
    /// told new without a lookup, the writer's gap of known-free keys having moved under
    /// that key. Among them: repeats of ids in groups still being committed, of an id
    /// stored long before, ids far out of order (each moving the gap again) and their
    /// repeats, and long ids (indexed by their hash) — each stored once, each repeat found.
    @Test func idsInOrderBelowAGreaterKeyAreStoredOnceAndTheirRepeatsFound() throws {
        let dir = TemporaryDirectory("log")
        var options = EventLog.Options()
        options.maxRecordsPerCommit = 50
        // (Slow commits: the writer prepares groups while earlier ones are still committing.)
        let log = try EventLog(path: dir.path, options: options) { _, _ in SlowCommits() }
        defer { log.close() }
        func id(_ number: Int) -> String {
            let digits = String(number)
            return "id-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }
        var batches: [[String]] = [["zz-rules"]]
        var next = 0
        for index in 0..<60 {
            var batch = (0..<30).map { _ in
                next += 1
                return id(next)
            }
            batch.insert(contentsOf: batches.last!.suffix(5), at: 10)  // repeats, mid-batch
            if index % 7 == 3 { batch.append(id(2)) }  // stored long before
            if index % 5 == 1 { batch.append(id(900_000 - index)) }  // far out of order…
            if index % 5 == 2 { batch.append(id(900_000 - index + 1)) }  // …repeated in the next group…
            if index % 5 == 3 { batch.append(id(900_000 - index + 2)) }  // …and the one after
            if index % 9 == 4 { batch.append("long-" + String(repeating: "x", count: 300) + String(index % 2)) }
            batches.append(batch)
        }
        batches.append(["zz-rules", id(1), id(next)])
        let firstPosition = try Self.submitWithoutWaiting(batches, to: log)
        let distinct = Set(batches.joined())
        #expect(firstPosition.count == distinct.count)
        #expect(Set(firstPosition.values) == Set(1...UInt64(distinct.count)))
        #expect(log.commits >= 1_800 / 50)
        #expect(try log.verify().isValid)
    }

    /// Submits the batches without waiting, then checks that each id was stored once and
    /// every repeat reported as a duplicate of that position; returns each id's position.
    static func submitWithoutWaiting(_ batches: [[String]], to log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: UInt64] {
        let results = ResultsBox(count: batches.count)
        let done = DispatchGroup()
        // (Built first, so that they are queued at once.)
        let records = batches.map { batch in batch.map { record($0) } }
        for (index, batch) in records.enumerated() {
            done.enter()
            log.submit(batch) { result in
                results.set(index, result)
                done.leave()
            }
        }
        done.wait()
        var firstPosition: [String: UInt64] = [:]
        for (index, batch) in batches.enumerated() {
            let outcomes = try results.get(index)
            for (id, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .appended(let position):
                    #expect(firstPosition[id] == nil, "\(id) stored twice", sourceLocation: sourceLocation)
                    firstPosition[id] = position
                case .duplicate(let position):
                    #expect(firstPosition[id] == position, "\(id) reported as a duplicate of \(position)", sourceLocation: sourceLocation)
                default:
                    Issue.record("\(id): \(outcome)", sourceLocation: sourceLocation)
                }
            }
        }
        for (id, position) in firstPosition {
            #expect(try log.position(ofID: id) == position, sourceLocation: sourceLocation)
        }
        return firstPosition
    }
}

/// A hook that accepts everything and makes each commit take a few milliseconds more, so
/// that the writer prepares the next groups while earlier ones are still being committed.
final class SlowCommits: AppendHook {
    func admit<T: TransactionReading>(_ record: PendingView, in txn: T) throws -> AdmitDecision { .accept }
    func didStore<T: TransactionReading>(_ record: RecordView, attachment: (any RecordAttachment)?, in txn: T) throws {}
    func prepareCommit(sequence: UInt64) throws -> (@Sendable (WriteTransaction) throws -> Void)? {
        { _ in usleep(3_000) }
    }
}

final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[AppendOutcome], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[AppendOutcome], any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    func get(_ index: Int) throws -> [AppendOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return try results[index]!.get()
    }
}
