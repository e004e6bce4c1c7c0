import Dispatch
import Foundation

/// Work split by lead across the cores: leads are independent (a lead's projection depends
/// only on its own events), so each shard takes the leads whose id hashes to it and the
/// results are combined in shard order — the same whatever the number of cores.
public enum Shards {
    /// One per core, at most 8.
    public static let count = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// The shard of a stream (a lead), by an FNV-1a hash of its id.
    static func shard(of stream: UnsafeRawBufferPointer, among shards: Int) -> Int {
        guard shards > 1 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(hash % UInt64(shards))
    }

    /// Runs `body` for shards `0..<count`, concurrently, and returns their values in shard
    /// order (or throws the first shard's error, in shard order). `body` may touch state
    /// shared by the shards only to read it: each shard writes its own.
    static func run<Value>(_ count: Int, _ body: (Int) throws -> Value) throws -> [Value] {
        if count == 1 { return [try body(0)] }
        let results = Results<Value>(count: count)
        withoutActuallyEscaping(body) { body in
            // Shards touch disjoint state (see above), which the compiler cannot see.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: count) { shard in
                results.set(shard, Result { try body(shard) })
            }
        }
        return try results.all.map { try $0!.get() }
    }

    /// The shards' results, filled from their threads (each writes its own slot, under a lock).
    private final class Results<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<Value, any Error>?]

        init(count: Int) {
            results = Array(repeating: nil, count: count)
        }

        func set(_ shard: Int, _ outcome: Result<Value, any Error>) {
            lock.withLock { results[shard] = outcome }
        }

        var all: [Result<Value, any Error>?] {
            lock.withLock { results }
        }
    }
}
