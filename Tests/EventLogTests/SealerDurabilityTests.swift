import EventLog
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("Event log: what sealed records depend on is durable before their commit")
struct SealerDurabilityTests {
    /// Upper-cases payloads; each batch it seals depends on a new mark, which `makeDurable`
    /// records (in one log with the commits), or fails on once when told to.
    final class MarkingSealer: BatchSealer {
        let state = Mutex<(marks: UInt64, happened: [String], failNext: Bool)>((0, [], false))

        func seal(_ batch: PendingBatch) throws -> (batch: PendingBatch?, durability: UInt64) {
            var upper: [PendingRecord] = []
            batch.forEachView { _, view in
                upper.append(PendingRecord(id: view.idString, stream: view.streamString, payload: view.payload.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }))
            }
            let mark = state.withLock { state in
                state.marks += 1
                return state.marks
            }
            return (PendingBatch(upper), mark)
        }

        func makeDurable(through mark: UInt64) throws {
            try state.withLock { state in
                if state.failNext {
                    state.failNext = false
                    throw Failure(mark: mark)
                }
                state.happened.append("durable \(mark)")
            }
        }

        func committed(through position: UInt64) {
            state.withLock { $0.happened.append("committed \(position)") }
        }

        var happened: [String] { state.withLock { $0.happened } }
        func failNext() { state.withLock { $0.failNext = true } }
    }

    struct Failure: Error, Equatable {
        let mark: UInt64
    }

    /// A batch sealed before it is appended (bulk ingest seals on its own threads) and one the
    /// writer seals: the writer makes each mark durable, and before the commit that stores it.
    @Test func marksAreMadeDurableByTheWriterBeforeTheirCommit() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let sealer = MarkingSealer()
        log.setSealer(sealer)
        log.observeCommits { sealer.committed(through: $0.lastPosition) }
        var batch = PendingBatch([record("a", payload: "one"), record("b", payload: "two")])
        try log.seal(&batch)
        #expect(sealer.happened.isEmpty)
        _ = try wait(log, batch)
        _ = try wait(log, PendingBatch([record("c", payload: "three")]))
        #expect(sealer.happened == ["durable 1", "committed 2", "durable 2", "committed 3"])
        #expect(try log.records(from: 1, limit: 10).map { String(decoding: $0.payload, as: UTF8.self) } == ["ONE", "TWO", "THREE"])
    }

    /// A mark that cannot be made durable fails its group as a failed commit does: nothing of
    /// it is stored, its chain's later requests fail, and the log goes on with other requests.
    @Test func aFailedMarkFailsTheGroupAndItsChain() throws {
        let dir = TemporaryDirectory("log")
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let sealer = MarkingSealer()
        log.setSealer(sealer)
        sealer.failNext()
        let chain = AppendChain()
        var first = PendingBatch([record("a"), record("b")])
        try log.seal(&first)
        let results = Results()
        let done = DispatchSemaphore(value: 0)
        log.submit(first, chain: chain) { results.add($0); done.signal() }
        log.submit(PendingBatch([record("c")]), chain: chain) { results.add($0); done.signal() }
        done.wait()
        done.wait()
        #expect(results.failures.count == 2)
        #expect(results.failures.contains { $0 is Failure })
        #expect(try log.lastPosition == 0)
        #expect(try wait(log, PendingBatch([record("d")])) == [.appended(position: 1)])
        #expect(try log.records(from: 1, limit: 10).map(\.id) == ["d"])
    }

    private func wait(_ log: EventLog, _ batch: PendingBatch) throws -> [AppendOutcome] {
        let results = Results()
        let done = DispatchSemaphore(value: 0)
        log.submit(batch) { results.add($0); done.signal() }
        done.wait()
        if let failure = results.failures.first { throw failure }
        return results.outcomes.first ?? []
    }
}

/// Results of submissions, gathered from the writer's thread.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [Result<[AppendOutcome], any Error>] = []

    func add(_ result: Result<[AppendOutcome], any Error>) { lock.withLock { all.append(result) } }
    var failures: [any Error] {
        lock.withLock { all.compactMap { if case .failure(let error) = $0 { error } else { nil } } }
    }
    var outcomes: [[AppendOutcome]] {
        lock.withLock { all.compactMap { try? $0.get() } }
    }
}
