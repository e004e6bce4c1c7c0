@testable import LeadEngine
import LMDB
import Testing

@Suite("Shards: work split by lead")
struct ShardsTests {
    /// The replay and rescore run at the pace of the busiest shard: leads must spread evenly,
    /// whatever their ids look like.
    /// A replay chunk's positions are walked in shares, one per shard: together they cover
    /// the chunk once, in order, and differ in size by one position at most.
    @Test(arguments: [1, 2, 3, 8])
    func sharesCoverTheChunkOnceAndEvenly(shards: Int) {
        for (from, through) in [(UInt64(1), UInt64(1)), (1, 2), (5, 7), (1, 50_000), (999_991, 1_000_000), (3, 3 + 8 * 1_000 + 5)] {
            let shares = (0..<shards).map { Shards.share($0, of: shards, from: from, through: through) }
            let covered = shares.flatMap { $0.first <= $0.last ? Array($0.first...$0.last) : [] }
            #expect(covered == Array(from...through), "\(from)...\(through) in \(shards)")
            let sizes = shares.map { Int($0.last + 1) - Int($0.first) }
            #expect(sizes.max()! - sizes.min()! <= 1, "\(from)...\(through) in \(shards): \(sizes)")
        }
    }

    @Test(arguments: [2, 3, 8])
    func leadsSpreadEvenlyOverTheShards(shards: Int) {
        let idSets: [[String]] = [
            (1...12_000).map { "L-" + String(repeating: "0", count: 6 - String($0).count) + String($0) },
            (1...12_000).map { "lead-\($0)" },
            (1...12_000).map { "\($0)" },
        ]
        for ids in idSets {
            var counts = Array(repeating: 0, count: shards)
            for id in ids {
                let shard = id.withUTF8Bytes { Shards.shard(of: $0, among: shards) }
                counts[shard] += 1
            }
            let even = Double(ids.count) / Double(shards)
            #expect(counts.allSatisfy { abs(Double($0) - even) < even * 0.1 }, "\(ids[0])…: \(counts)")
        }
    }
}
