internal import CByteScan
import Dispatch
import EventLog
import Foundation
import LMDB

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

/// Positions of the log walked on every core, each record handed to the shard of its lead
/// (a replay's chunk, a rescore's): each of the threads walks an equal share of the positions
/// and sorts its records out by the shard of their lead, so that each record is walked once;
/// then each shard reads its own leads' records from every share, in log order. The records
/// stay in the map, read through transactions that stay open until both steps are done.
final class ShardedWalk: @unchecked Sendable {
    let shards: Int
    private let environment: Environment
    private let reader: LogReader
    /// Each share's records, sorted out by shard. The lists keep their memory from one walk
    /// to the next: a chunk's lists are megabytes, and allocated anew their pages were
    /// faulted in anew.
    private let sorted: [SortedRecords]

    init(environment: Environment, reader: LogReader, shards: Int) {
        self.environment = environment
        self.reader = reader
        self.shards = max(shards, 1)
        sorted = (0..<self.shards).map { [count = self.shards] _ in SortedRecords(shards: count) }
    }

    /// One shard's records of a walk, in log order (valid during the walk only).
    struct Records {
        let shard: Int
        fileprivate let shares: [SortedRecords]

        @inline(__always)
        func forEach(_ body: (RecordView) throws -> Void) throws {
            for share in shares {
                let list = share.list(shard)
                for index in list.indices {
                    // The records were last read on the core that walked their share, and
                    // are mostly out of this one's caches: ask for one a few records ahead.
                    if index + Self.prefetchDistance < list.count, let ahead = list[index + Self.prefetchDistance].stored.baseAddress {
                        leadledger_prefetch(ahead)
                        leadledger_prefetch(ahead + 64)
                    }
                    let ref = list[index]
                    try body(LogReader.record(at: ref.position, stored: ref.stored))
                }
            }
        }

        static let prefetchDistance = 8
    }

    /// Walks positions `from...through`, then runs `body` for every shard, concurrently, with
    /// its records and a transaction of its own for its other reads.
    func run(from: UInt64, through: UInt64, _ body: (_ shard: Int, _ records: Records, _ txn: ReadTransaction) throws -> Void) throws {
        let (shards, sorted, reader) = (self.shards, self.sorted, self.reader)
        try environment.read(transactions: shards) { txns in
            _ = try Shards.run(shards) { share in
                let lists = sorted[share]
                lists.removeAll()
                let (first, last) = Shards.share(share, of: shards, from: from, through: through)
                guard first <= last else { return }
                try reader.forEachStored(from: first, through: last, in: txns[share]) { position, stream, stored in
                    lists.append(StoredRecordRef(position: position, stored: stored), to: Shards.shard(of: stream, among: shards))
                }
            }
            _ = try Shards.run(shards) { shard in
                try body(shard, Records(shard: shard, shares: sorted), txns[shard])
            }
        }
    }
}

/// A record left in the map, to be read while the transaction that found it is open.
struct StoredRecordRef {
    var position: UInt64
    var stored: UnsafeRawBufferPointer
}

/// One share of a walk's records, sorted out by the shard of their lead. Filled by one
/// thread, then read by every shard once it is full (`Shards.run` returning between the two
/// is what orders them). Each list is raw memory that grows by doubling and is kept from one
/// walk to the next: appending to arrays nested in a class cost 90 instructions a record
/// (uniqueness and capacity checks through the class), a store and an increment here.
final class SortedRecords: @unchecked Sendable {
    private struct List {
        var base: UnsafeMutablePointer<StoredRecordRef>
        var count: Int
        var capacity: Int
    }

    private let shards: Int
    /// One list a shard (raw memory too: a Swift array of them would be checked for
    /// uniqueness on each append).
    private let lists: UnsafeMutablePointer<List>

    init(shards: Int) {
        self.shards = shards
        lists = .allocate(capacity: shards)
        for shard in 0..<shards {
            (lists + shard).initialize(to: List(base: .allocate(capacity: 1_024), count: 0, capacity: 1_024))
        }
    }

    deinit {
        for shard in 0..<shards { lists[shard].base.deallocate() }
        lists.deinitialize(count: shards)
        lists.deallocate()
    }

    @inline(__always)
    func append(_ ref: StoredRecordRef, to shard: Int) {
        precondition(shard >= 0 && shard < shards, "no such shard")
        let list = lists + shard
        if list.pointee.count == list.pointee.capacity { grow(list) }
        (list.pointee.base + list.pointee.count).initialize(to: ref)
        list.pointee.count += 1
    }

    private func grow(_ list: UnsafeMutablePointer<List>) {
        let capacity = 2 * list.pointee.capacity
        let grown = UnsafeMutablePointer<StoredRecordRef>.allocate(capacity: capacity)
        grown.moveInitialize(from: list.pointee.base, count: list.pointee.count)
        list.pointee.base.deallocate()
        list.pointee.base = grown
        list.pointee.capacity = capacity
    }

    /// Shard `shard`'s records (valid until the next `append` or `removeAll`).
    func list(_ shard: Int) -> UnsafeBufferPointer<StoredRecordRef> {
        precondition(shard >= 0 && shard < shards, "no such shard")
        return UnsafeBufferPointer(start: lists[shard].base, count: lists[shard].count)
    }

    /// Empties the lists, keeping their memory. (The records are plain values: nothing to
    /// deinitialize.)
    func removeAll() {
        for shard in 0..<shards { lists[shard].count = 0 }
    }
}
