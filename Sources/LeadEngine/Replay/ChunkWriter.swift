import Foundation
import EventLog
import LedgerSystem

/// A replay's write transactions, one at a time, on a thread of its own: a chunk's write
/// (mostly waiting for the disk) runs while the shards apply the next chunk. The write runs
/// start to commit inside one closure on that thread, as LMDB requires. One thread for the
/// whole replay rather than a dispatch queue's: it is certain to run beside the shards, and
/// it is named, for `top -H` and `perf`.
final class ChunkWriter: @unchecked Sendable {
    /// The chunk a write stored, and the last position in it.
    struct Written {
        var chunk: UInt64
        var end: UInt64
    }

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var job: (@Sendable () throws -> Void)?
    private var outcome: Result<Void, any Error>?
    private var closed = false
    /// The write started and not yet waited for (touched only by the thread that starts and
    /// waits).
    private var running: Written?

    init() {
        let thread = Thread { [self] in run() }
        thread.start()
    }

    private func run() {
        System.nameThisThread("ll-replay-write")
        condition.lock()
        defer { condition.unlock() }
        while true {
            while job == nil && !closed { condition.wait() }
            guard let write = job else { return }
            condition.unlock()
            let result = Result { try write() }
            condition.lock()
            job = nil
            outcome = result
            condition.broadcast()
        }
    }

    /// Starts storing a chunk. Wait for the previous one first.
    func start(chunk: UInt64, end: UInt64, _ write: @escaping @Sendable () throws -> Void) {
        precondition(running == nil, "a chunk's write started before the previous one was waited for")
        running = Written(chunk: chunk, end: end)
        condition.lock()
        job = write
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the running write, if any: returns what it stored, or throws its error.
    func wait() throws -> Written? {
        guard let written = running else { return nil }
        running = nil
        condition.lock()
        while true {
            if let result = outcome {
                outcome = nil
                condition.unlock()
                try result.get()
                return written
            }
            condition.wait()
        }
    }

    /// Waits for the running write, if any (ignoring its outcome when the replay already
    /// failed), and lets the thread end.
    func finish() {
        _ = try? wait()
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
