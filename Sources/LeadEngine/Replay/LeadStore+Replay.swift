import Dispatch
import EventLog
import LeadDomain
import LedgerJSON
import LMDB

extension LeadStore {
    // MARK: Projections

    /// Rebuilds every projection from position 1, into the other generation of tables, which
    /// one commit then makes current (see `ProjectionTables`): until then the projections in
    /// force stay as they are, so a rebuild that fails leaves them and the store usable.
    /// Returns how many events it replayed. `chunkSize` events are applied per write
    /// transaction, by `shards` threads (one per core by default); neither changes what is
    /// stored.
    @discardableResult
    public func rebuildProjections(
        chunkSize: UInt64 = 50_000, shards: Int = Shards.count, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> UInt64 {
        try replay(fromStart: true, chunkSize: chunkSize, shards: shards, progress: progress)
    }

    /// Applies what the projections have not seen yet: from their checkpoint on, or a
    /// rebuild if they have seen nothing (a new store format's checkpoint).
    func catchUp() throws {
        let done = try log.checkpoint(projectionTables.checkpoint)
        guard try log.lastPosition > done else { return }
        _ = try replay(fromStart: done == 0)
    }

    /// Applies the log from the projection's checkpoint to its end, in chunks of positions,
    /// on every core. For each chunk, each shard (a share of the leads, see `Shards`) applies
    /// its leads' events as `ShardedWalk` hands them over, meeting new dimension values in
    /// a draft; then one write transaction gives those values their ids in log order, stores
    /// every touched lead and moves the checkpoint — so the stored bytes are the ones a
    /// sequential replay would store, and a crash mid-way resumes where it stopped.
    ///
    /// A chunk's write runs on another thread while the shards apply the next chunk (it is
    /// mostly waiting for the disk). So the next chunk may read the table before the write
    /// is committed: the shards keep the leads they changed cached until it is, and only
    /// then let go of them (`changedRows(committing:)`, `didCommit(through:)`, as the log's
    /// appends do). A lead is therefore either cached or stored when the next chunk reads it.
    func replay(
        fromStart: Bool, chunkSize: UInt64 = 50_000, shards shardCount: Int = Shards.count, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> UInt64 {
        let chunkSize = max(chunkSize, 1)
        let current = projectionTables
        let target = fromStart ? current.other : current
        // The projection's final state scores every lead under the rules in force at the end
        // of the log, so the replay uses those from the start; it derives nothing (the
        // engine's own events are in the log already).
        let rules = try currentRules()
        let environment = log.environment
        let dimensions = try Dimensions(environment: environment, tables: target)
        let shards = try (0..<max(shardCount, 1)).map { _ in
            let projection = try LifecycleProjection(environment: environment, reader: log.reader, rules: rules, tables: target, dimensions: dimensions)
            projection.derivesEvents = false
            return projection
        }
        let last = try log.lastPosition
        var next = fromStart ? 1 : try log.checkpoint(target.checkpoint) + 1
        if fromStart {
            // The other generation, emptied (a failed rebuild may have left rows there).
            try environment.write { txn in
                try shards[0].clear(in: txn)
                try log.setCheckpoint(target.checkpoint, to: 0, in: txn)
                try self.setScoresVersion(nil, of: target, in: txn)
            }
            for projection in shards { projection.replaysIntoEmptyTables() }
        }
        try environment.read { txn in try dimensions.prepare(in: txn) }
        let first = next
        let writer = ChunkWriter()
        // Whatever happens, no write is left running when this returns.
        defer { writer.finish() }
        let walk = ShardedWalk(environment: environment, reader: log.reader, shards: shards.count)
        var chunk: UInt64 = 0
        while next <= last {
            let end = last - next >= chunkSize ? next + chunkSize - 1 : last
            chunk += 1
            let drafts = shards.map { _ in DimensionDraft(committed: dimensions) }
            try walk.run(from: next, through: end) { shard, records, txn in
                let projection = shards[shard]
                let interner = Interner.draft(drafts[shard])
                try records.forEach { record in
                    try projection.apply(
                        stored: record.payload, id: record.id, lead: record.stream, position: record.position,
                        in: txn, interner: interner)
                }
            }
            environment.releaseMappedPages()
            // New values get their ids; each shard encodes its leads with them. (If this fails,
            // the replay stops, and `dimensions`, which only it uses, goes with it.)
            let ids = try dimensions.settle(drafts)
            let assigned = dimensions.takeAssigned()
            let rows = try Shards.run(shards.count) { shard in
                shards[shard].changedRows(dimensionIDs: ids[shard], committing: chunk)
            }
            // The previous chunk is stored: its leads may be read from the table now.
            if let written = try writer.wait() {
                for projection in shards { projection.didCommit(through: written.chunk) }
                progress?(written.end, last)
            }
            let (leads, journeys, table, version) = (shards[0].leads, shards[0].journeys, dimensions.table, rules?.version)
            let accounts = shards[0].accounts
            writer.start(chunk: chunk, end: end) { [log, self] in
                // (Run again from the start if the map grows: the same rows, the same ids.)
                try environment.write { txn in
                    try Dimensions.store(assigned, in: table, txn: txn)
                    try LeadRows.write(rows, leads: leads, journeys: journeys, accounts: accounts, in: txn)
                    try log.setCheckpoint(target.checkpoint, to: end, in: txn)
                    try self.setScoresVersion(version, of: target, in: txn)
                }
            }
            next = end + 1
        }
        if let written = try writer.wait() {
            // The leads still cached are freed on other threads.
            for projection in shards { projection.didCommit(through: written.chunk) }
            progress?(written.end, last)
        }
        if fromStart {
            try swapIn(target, replacing: current, version: rules?.version)
        }
        return last >= first ? last - first + 1 : 0
    }

    /// One commit lists `target`'s leads in its `accounts` index, makes it the projections in
    /// force and empties `old` (its pages are freed for reuse); then every reader and the
    /// writer's hook use `target`.
    private func swapIn(_ target: ProjectionTables, replacing old: ProjectionTables, version: String?) throws {
        let environment = log.environment
        let oldTables = try [old.leads, old.journeys, old.dimensions, old.accounts].map { try environment.table($0) }
        let (leads, accounts) = (try environment.table(target.leads), try environment.table(target.accounts))
        try environment.write { txn in
            // (The fill reads every lead, and emptying a table reads its branch pages: each
            // would leave them all mapped in this process, the largest resident part of a
            // rebuild.)
            try AccountIndex.fill(accounts, from: leads, in: txn) { environment.releaseMappedPages(now: true) }
            environment.releaseMappedPages(now: true)
            try txn.put(meta, key: Array(ProjectionTables.generationKey.utf8), value: Array(String(target.generation).utf8))
            try self.setScoresVersion(version, of: target, in: txn)
            for table in oldTables {
                try txn.clear(table)
                environment.releaseMappedPages(now: true)
            }
            try log.setCheckpoint(old.checkpoint, to: 0, in: txn)
            try self.setScoresVersion(nil, of: old, in: txn)
        }
        try adopt(target)
    }
}
