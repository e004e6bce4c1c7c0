import Dispatch
import EventLog
import Foundation

/// Work split by lead across the cores: leads are independent (a lead's projection depends
/// only on its own events), so each shard takes the leads whose id hashes to it and the
/// results are combined in shard order — the same whatever the number of cores.
public enum Shards {
    /// One per core, at most 8.
    public static let count = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))

    /// The shard of a stream (a lead), by a hash of its id: its last eight bytes (where ids
    /// differ most) as one word, or `ByteHash` for shorter ids. Every shard computes it for
    /// every record, so it is kept to a few instructions; it decides only who does the work.
    public static func shard(of stream: UnsafeRawBufferPointer, among shards: Int) -> Int {
        guard shards > 1 else { return 0 }
        let hash = stream.count >= 8
            ? stream.loadUnaligned(fromByteOffset: stream.count - 8, as: UInt64.self) ^ UInt64(stream.count)
            : ByteHash.of(stream)
        // Mixed, then mapped onto 0..<shards by a multiply instead of a division.
        let mixed = (hash &* 0x9E37_79B9_7F4A_7C15) >> 32
        return Int((mixed &* UInt64(shards)) >> 32)
    }

    /// Positions `from...through` (`from` ≥ 1) cut into `count` shares of equal size (to one
    /// position): share `index`, empty when `first > last`.
    static func share(_ index: Int, of count: Int, from: UInt64, through: UInt64) -> (first: UInt64, last: UInt64) {
        let total = through - from + 1
        let first = from + total * UInt64(index) / UInt64(count)
        let next = from + total * UInt64(index + 1) / UInt64(count)
        return (first, next - 1)
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
