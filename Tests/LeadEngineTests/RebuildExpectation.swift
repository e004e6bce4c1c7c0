import LeadEngine
import Testing

/// Rebuilds in several chunkings and shard counts: each gives the live projection's bytes.
func expectRebuildGivesLive(_ store: LeadStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let live = try store.projectionSnapshot()
    for (chunk, shards) in [(UInt64(100_000), 2), (7, 3), (3, 1)] {
        _ = try store.rebuildProjections(chunkSize: chunk, shards: shards)
        let rebuilt = try store.projectionSnapshot()
        #expect(rebuilt.count == live.count, "chunks of \(chunk) on \(shards) shards", sourceLocation: sourceLocation)
        let differing = zip(rebuilt, live).first { $0.key != $1.key || $0.value != $1.value }
        #expect(differing == nil, "chunks of \(chunk) on \(shards) shards: \(String(decoding: differing?.0.key ?? [], as: UTF8.self))", sourceLocation: sourceLocation)
    }
}
