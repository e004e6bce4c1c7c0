import Dispatch
import Foundation
@testable import EventLog
import LMDB
import Synchronization
import Testing
import TestSupport

/// The writer answers an append only once its commit is durable: the committer leaves the
/// meta page's flush to the syncer (or does it itself when nothing waits), and a flush that
/// fails stops the writer.
@Suite("Event log: appends are answered after the disk has their commit")
struct WriterDurabilityTests {
    /// What happened, in order, across the writer's threads.
    final class Happenings: Sendable {
        private let events = Mutex<[String]>([])
        let failFlushes = Mutex(false)

        func add(_ event: String) { events.withLock { $0.append(event) } }
        var all: [String] { events.withLock { $0 } }
    }

    /// A group committed while an earlier group's flush fails is failed with it, even though
    /// the next flush would succeed (as `fdatasync` does once it has reported an error).
    @Test func aGroupCommittedDuringAFailingFlushIsNotAcknowledged() throws {
        let dir = TemporaryDirectory("log")
        let failing = Mutex(false)
        let release = DispatchSemaphore(value: 0)
        var options = EventLog.Options()
        options.flush = { environment in
            let fail = failing.withLock { fail in
                defer { fail = false }  // (only once: the next flush succeeds)
                return fail
            }
            if fail {
                release.wait()
                throw FlushFailure()
            }
            try environment.sync()
        }
        // Two groups ("b", then the 200 "c" records), the second chained while the first
        // commits (slowly), so that the first's flush is the syncer's and the second commits
        // while it is under way.
        options.maxRecordsPerCommit = 100
        let log = try EventLog(path: dir.path, options: options) { _, _ in SlowCommits() }
        defer { log.close() }
        #expect(try log.appendAndWait([record("a")]) == [.appended(position: 1)])
        failing.withLock { $0 = true }
        let results = Mutex<[String: Bool]>([:])
        let answered = DispatchGroup()
        answered.enter()
        log.submit(PendingBatch([record("b")])) { result in
            results.withLock { $0["b"] = (try? result.get()) != nil }
            answered.leave()
        }
        answered.enter()
        log.submit(PendingBatch((0..<200).map { record("c\($0)") })) { result in
            results.withLock { $0["c"] = (try? result.get()) != nil }
            answered.leave()
        }
        // Both committed (visible), the first one's flush still under way. (Nothing here may
        // throw before the flush is released: closing the log would wait for it forever.)
        let deadline = ContinuousClock.now + .seconds(10)
        while ((try? log.lastPosition) ?? 0) < 202 && ContinuousClock.now < deadline { usleep(1_000) }
        #expect((try? log.lastPosition) == 202)
        release.signal()
        answered.wait()
        #expect(results.withLock { $0 } == ["b": false, "c": false])
        #expect(log.writeFault != nil)
    }

    private func openLog(_ dir: TemporaryDirectory, _ happenings: Happenings, maxRecordsPerCommit: Int = 100_000) throws -> EventLog {
        var options = EventLog.Options()
        options.maxRecordsPerCommit = maxRecordsPerCommit
        options.flush = { environment in
            if happenings.failFlushes.withLock({ $0 }) { throw FlushFailure() }
            try environment.sync()
            happenings.add("flush")
        }
        let log = try EventLog(path: dir.path, options: options)
        log.observeCommits { happenings.add("observed \($0.lastPosition)") }
        return log
    }

    struct FlushFailure: Error, CustomStringConvertible {
        var description: String { "fdatasync: Input/output error" }
    }

    /// Many small groups queued at once, so that groups are committed while earlier ones are
    /// flushed: every answer comes after a flush that followed its commit, and after the
    /// observers (the server's stream) heard of it, all in the log's order.
    @Test func everyAnswerFollowsTheFlushOfItsCommit() throws {
        let dir = TemporaryDirectory("log")
        let happenings = Happenings()
        let log = try openLog(dir, happenings, maxRecordsPerCommit: 100)
        defer { log.close() }
        let group = DispatchGroup()
        for appender in 0..<8 {
            for request in 0..<25 {
                group.enter()
                let records = (0..<20).map { record("a\(appender)-\(request)-\($0)") }
                log.submit(PendingBatch(records)) { result in
                    if case .success(let outcomes) = result, case .appended(let position)? = outcomes.last {
                        happenings.add("answered \(position)")
                    }
                    group.leave()
                }
            }
        }
        group.wait()
        let all = happenings.all
        #expect(all.filter { $0.hasPrefix("answered") }.count == 200)
        for (index, event) in all.enumerated() where event.hasPrefix("answered") {
            let position = UInt64(event.split(separator: " ")[1])!
            // The commit that stored it was observed before, and a flush came between its
            // commit and that observation.
            let observed = all[..<index].lastIndex { event in
                event.hasPrefix("observed") && UInt64(event.split(separator: " ")[1])! >= position
            }
            #expect(observed != nil, "answered \(position) before its commit was observed")
            if let observed {
                #expect(all[..<observed].contains("flush"), "position \(position) was observed before any flush")
            }
        }
        // Made durable, observed and answered in the log's order.
        let answeredPositions = all.filter { $0.hasPrefix("answered") }.map { UInt64($0.split(separator: " ")[1])! }
        #expect(answeredPositions == answeredPositions.sorted())
        let observedPositions = all.filter { $0.hasPrefix("observed") }.map { UInt64($0.split(separator: " ")[1])! }
        #expect(observedPositions == observedPositions.sorted())
        #expect(try log.lastPosition == 4_000)
    }

    /// A flush that fails fails the requests of the commits it was for and every later one,
    /// with the cause; the store opened again holds what was committed, and a retry of the
    /// same ids stores nothing twice.
    @Test func aFailedFlushStopsTheWriterAndTheStoreOpensAgain() throws {
        let dir = TemporaryDirectory("log")
        let happenings = Happenings()
        do {
            let log = try openLog(dir, happenings)
            defer { log.close() }
            #expect(try log.appendAndWait([record("a")]) == [.appended(position: 1)])
            happenings.failFlushes.withLock { $0 = true }
            #expect {
                try log.appendAndWait([record("b")])
            } throws: { error in
                guard case LogError.notDurable(let cause) = error else { return false }
                return cause.contains("Input/output error")
            }
            // Nothing more is committed, even once the disk answers again.
            happenings.failFlushes.withLock { $0 = false }
            #expect(throws: LogError.self) { try log.appendAndWait([record("c")]) }
            // A group that commits on its own (an expected version) too.
            #expect(throws: LogError.self) { try log.appendAndWait([record("d", stream: "s-2", expectedVersion: 0)]) }
            #expect(try log.lastPosition <= 2)
        }
        let log = try EventLog(path: dir.path)
        defer { log.close() }
        let retried = try log.appendAndWait([record("a"), record("b"), record("c")])
        #expect(retried.first == .duplicate(position: 1))
        #expect(try log.records(from: 1, limit: 10).map(\.id) == ["a", "b", "c"])
    }
}
