import Foundation
@testable import LeadEngine
import Testing

@Suite("A replay's chunk writer")
struct ChunkWriterTests {
    struct Refused: Error {}

    /// Writes run one at a time on the writer's own thread; each wait answers for the write
    /// started before it, its error included, and a failed write does not stop the next.
    @Test func eachWaitAnswersForItsWriteOnTheWritersThread() throws {
        let writer = ChunkWriter()
        defer { writer.finish() }
        #expect(try writer.wait() == nil)
        let names = Names()
        writer.start(chunk: 1, end: 50) { names.add(Thread.current.name ?? "") }
        let first = try writer.wait()
        #expect(first?.chunk == 1 && first?.end == 50)
        writer.start(chunk: 2, end: 90) { throw Refused() }
        #expect(throws: Refused.self) { try writer.wait() }
        writer.start(chunk: 3, end: 99) { names.add(Thread.current.name ?? "") }
        #expect(try writer.wait()?.chunk == 3)
        #expect(names.all == ["ll-replay-write", "ll-replay-write"])
        #expect(try writer.wait() == nil)
    }

    /// `finish` waits for a write still running (a replay that failed elsewhere must not
    /// return while its last chunk is being written).
    @Test func finishWaitsForTheRunningWrite() {
        let writer = ChunkWriter()
        let names = Names()
        writer.start(chunk: 1, end: 10) {
            Thread.sleep(forTimeInterval: 0.2)
            names.add("written")
        }
        writer.finish()
        #expect(names.all == ["written"])
    }

    final class Names: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []
        func add(_ name: String) { lock.withLock { names.append(name) } }
        var all: [String] { lock.withLock { names } }
    }
}
