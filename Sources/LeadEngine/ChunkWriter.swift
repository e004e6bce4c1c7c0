import Dispatch

/// A replay's write transactions, one at a time, on a thread of their own: a chunk's write
/// (mostly waiting for the disk) runs while the shards apply the next chunk. The write runs
/// start to commit inside one closure on that thread, as LMDB requires.
final class ChunkWriter: @unchecked Sendable {
    /// The chunk a write stored, and the last position in it.
    struct Written {
        var chunk: UInt64
        var end: UInt64
    }

    /// (A serial queue of its own targets an overcommitting root queue: it gets a thread even
    /// while the shards keep every core busy.)
    private let queue = DispatchQueue(label: "ll-replay-writer")
    private let done = DispatchSemaphore(value: 0)
    /// The write started and not yet waited for (touched only by the thread that starts and
    /// waits; `outcome` is handed over by the semaphore).
    private var running: Written?
    private var outcome: Result<Void, any Error> = .success(())

    /// Starts storing a chunk. Wait for the previous one first.
    func start(chunk: UInt64, end: UInt64, _ write: @escaping @Sendable () throws -> Void) {
        precondition(running == nil, "a chunk's write started before the previous one was waited for")
        running = Written(chunk: chunk, end: end)
        queue.async {
            self.outcome = Result { try write() }
            self.done.signal()
        }
    }

    /// Waits for the running write, if any: returns what it stored, or throws its error.
    func wait() throws -> Written? {
        guard let written = running else { return nil }
        running = nil
        done.wait()
        try outcome.get()
        return written
    }

    /// Waits for the running write, if any, ignoring its outcome (the replay already failed).
    func finish() {
        _ = try? wait()
    }
}
