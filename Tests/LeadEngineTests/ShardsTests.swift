import LeadEngine
import LMDB
import Testing

@Suite("Shards: work split by lead")
struct ShardsTests {
    /// The replay and rescore run at the pace of the busiest shard: leads must spread evenly,
    /// whatever their ids look like.
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
