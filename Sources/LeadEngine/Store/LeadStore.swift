import Dispatch
import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// A LeadLedger store: the event log of lead events in one directory, with the lifecycle's
/// validation and projection running inside every append.
public final class LeadStore: Sendable {
    public let log: EventLog
    public let path: String
    let leads: Table
    /// Small facts about the projections (which rules the scores are under).
    let meta: Table
    /// The log's append hook (the writer's threads use it; tests look at its cache when the
    /// writer is idle).
    let lifecycle: LifecycleProjection?
    static let scoresVersionKey = "scores.rulesVersion"
    /// The checkpoint of the lead projection.
    public static let projectionCheckpoint = LifecycleProjection.checkpoint

    public struct Options: Sendable {
        public var log = EventLog.Options()
        public init() {}
    }

    /// Opens (or creates) the store at `path`. If the lifecycle projection is behind the log
    /// (a store written before it existed, or a crash between an append and a rebuild), it is
    /// caught up from its checkpoint first.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        var lifecycle: LifecycleProjection?
        self.log = try EventLog(path: path, options: options.log) { environment, reader in
            let rules = try environment.read { txn in try LifecycleProjection.currentRules(reader: reader, in: txn) }
            let projection = try LifecycleProjection(environment: environment, reader: reader, scorer: rules.map(Scorer.init))
            lifecycle = projection
            return projection
        }
        self.lifecycle = lifecycle
        do {
            self.leads = try log.environment.table(LifecycleProjection.tableName)
            self.meta = try log.environment.table("meta")
            try catchUp()
            try refreshScoresIfNeeded()
        } catch {
            log.close()
            throw error
        }
    }

    public func close() {
        log.close()
    }

    // MARK: Appending

    /// Turns a validated event into what the log stores.
    public static func pending(_ event: Envelope) -> PendingRecord {
        PendingRecord(id: event.id, stream: event.stream, payload: EventCodec.encode(event), attachment: DecodedEvent(event))
    }

    /// Appends events (blocking until the commit is durable); one outcome per event.
    public func append(_ events: [Envelope]) throws -> [AppendOutcome] {
        try log.appendAndWait(events.map(Self.pending))
    }

    // MARK: Decoding

    public static func event(from record: RecordView) throws -> Envelope {
        try EventCodec.decode(record.payload, id: record.idString, lead: record.streamString)
    }

    public static func event(from record: StoredRecord) throws -> Envelope {
        try record.payload.withUnsafeBytes { payload in
            try EventCodec.decode(payload, id: record.id, lead: record.stream)
        }
    }

    // MARK: Projections

    /// Rebuilds every projection from position 1 and returns how many events it replayed.
    /// `chunkSize` events are applied per write transaction, by `shards` threads (one per
    /// core by default); neither changes what is stored.
    @discardableResult
    public func rebuildProjections(
        chunkSize: UInt64 = 50_000, shards: Int = Shards.count, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> UInt64 {
        try log.setCheckpoint(LifecycleProjection.checkpoint, to: 0)
        return try replay(chunkSize: chunkSize, shards: shards, progress: progress)
    }

    private func catchUp() throws {
        let done = try log.checkpoint(LifecycleProjection.checkpoint)
        guard try log.lastPosition > done else { return }
        _ = try replay()
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
    /// then let go of them (`dirtyRows(committing:)`, `didCommit(through:)`, as the log's
    /// appends do). A lead is therefore either cached or stored when the next chunk reads it.
    private func replay(chunkSize: UInt64 = 50_000, shards shardCount: Int = Shards.count, progress: ((UInt64, UInt64) -> Void)? = nil) throws -> UInt64 {
        let chunkSize = max(chunkSize, 1)
        // The projection's final state scores every lead under the rules in force at the end
        // of the log, so the replay uses those from the start; it derives nothing (the
        // engine's own events are in the log already).
        let rules = try currentRules()
        let environment = log.environment
        let dimensions = try Dimensions(environment: environment)
        let shards = try (0..<max(shardCount, 1)).map { _ in
            let projection = try LifecycleProjection(environment: environment, reader: log.reader, scorer: nil, dimensions: dimensions)
            projection.use(rules)
            projection.derivesEvents = false
            return projection
        }
        let last = try log.lastPosition
        var next = try log.checkpoint(LifecycleProjection.checkpoint) + 1
        if next == 1 {
            // From the start (a rebuild, or a projection of another version): empty tables.
            try environment.write { txn in try shards[0].clear(in: txn) }
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
                shards[shard].dirtyRows(dimensionIDs: ids[shard], committing: chunk)
            }
            // The previous chunk is stored: its leads may be read from the table now.
            if let written = try writer.wait() {
                for projection in shards { projection.didCommit(through: written.chunk) }
                progress?(written.end, last)
            }
            let (leads, journeys, table, version) = (shards[0].leads, shards[0].journeys, dimensions.table, rules?.version)
            writer.start(chunk: chunk, end: end) { [log, self] in
                // (Run again from the start if the map grows: the same rows, the same ids.)
                try environment.write { txn in
                    try Dimensions.store(assigned, in: table, txn: txn)
                    try LifecycleProjection.write(rows, leads: leads, journeys: journeys, in: txn)
                    try log.setCheckpoint(LifecycleProjection.checkpoint, to: end, in: txn)
                    try self.setScoresVersion(version, in: txn)
                }
            }
            next = end + 1
        }
        if let written = try writer.wait() {
            // The leads still cached are freed on other threads.
            for projection in shards { projection.didCommit(through: written.chunk) }
            progress?(written.end, last)
        }
        return last >= first ? last - first + 1 : 0
    }

    /// The rules the projected scores were computed with (`nil`: none).
    func scoresVersion() throws -> String? {
        try log.environment.read { txn in
            try txn.get(meta, key: Array(Self.scoresVersionKey.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    private func setScoresVersion(_ version: String?, in txn: WriteTransaction) throws {
        let key = Array(Self.scoresVersionKey.utf8)
        if let version {
            try txn.put(meta, key: key, value: Array(version.utf8))
        } else {
            _ = try key.withUnsafeBytes { try txn.delete(meta, key: $0) }
        }
    }

    /// After rules are published, every lead is rescored under them (a rebuild from the log),
    /// so that reads and reports never see scores under two rule versions. Returns whether
    /// it rebuilt.
    @discardableResult
    public func refreshScoresIfNeeded(progress: ((UInt64, UInt64) -> Void)? = nil) throws -> Bool {
        let current = try currentRules()?.version
        guard try current != scoresVersion() else { return false }
        try rebuildProjections(progress: progress)
        return true
    }

    /// The rules in force: the latest `rules.published`.
    public func currentRules() throws -> ScoringRules? {
        try log.environment.read { txn in try LifecycleProjection.currentRules(reader: log.reader, in: txn) }
    }

    /// Every projection table (leads, journeys, dimensions) as stored bytes, in key order,
    /// each key prefixed with its table's name — for byte-for-byte comparisons.
    public func projectionSnapshot() throws -> [(key: [UInt8], value: [UInt8])] {
        let tables = [leads] + (try [LifecycleProjection.journeysTableName, Dimensions.tableName].map { try log.environment.table($0) })
        return try log.environment.read { txn in
            var rows: [(key: [UInt8], value: [UInt8])] = []
            for table in tables {
                try txn.withCursor(table) { cursor in
                    var entry = try cursor.first()
                    while let current = entry {
                        rows.append((Array(table.name.utf8) + [0] + Array(current.key), Array(current.value)))
                        entry = try cursor.next()
                    }
                }
            }
            return rows
        }
    }

    // MARK: Reading leads

    /// The lead's current projected state, or `nil` for an unknown lead.
    public func lead(_ id: String) throws -> LeadState? {
        try log.environment.read { txn in try LifecycleProjection.read(id, from: leads, in: txn) }
    }

    /// The lead's state as it was at `time`, rebuilt from its events in the log.
    public func lead(_ id: String, asOf time: Timestamp) throws -> LeadState? {
        let events = try history(of: id).map { (position: $0.position, event: $0.event) }
        return Lifecycle.state(of: events, asOf: time)
    }

    /// The lead's events in log order.
    public func history(of lead: String) throws -> [LoggedEvent] {
        var rows: [LoggedEvent] = []
        try log.forEach(stream: lead) { rows.append(try LoggedEvent(record: $0)) }
        return rows
    }

    /// Events matching `filter`, in log order. With a lead, reads only that lead's events;
    /// otherwise streams the whole log in chunks.
    public func audit(_ filter: AuditFilter, _ body: (LoggedEvent) throws -> Void) throws {
        func visit(_ record: RecordView) throws {
            if let prefix = filter.typePrefix {
                let header = try EventCodec.header(record.payload)
                guard header.type.rawValue.hasPrefix(prefix) else { return }
            }
            let row = try LoggedEvent(record: record)
            if filter.matches(row.event) { try body(row) }
        }
        if let lead = filter.lead {
            try log.forEach(stream: lead, visit)
        } else {
            try log.forEach(visit)
        }
    }
}

/// An event as stored: its position and when the log recorded it.
public struct LoggedEvent: Sendable, Hashable {
    public var position: UInt64
    public var recordedAt: Timestamp
    public var event: Envelope

    init(record: RecordView) throws {
        position = record.position
        recordedAt = Timestamp(microseconds: record.recordedAt * 1000)
        event = try LeadStore.event(from: record)
    }
}

/// `audit`'s filters; all given ones must hold.
public struct AuditFilter: Sendable {
    public var lead: String?
    public var actor: String?
    /// Matches types starting with it (`sales.`, `lead.handed_off`).
    public var typePrefix: String?
    /// On the event's `at`: since is inclusive, until exclusive.
    public var since: Timestamp?
    public var until: Timestamp?

    public init(lead: String? = nil, actor: String? = nil, typePrefix: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil) {
        self.lead = lead
        self.actor = actor
        self.typePrefix = typePrefix
        self.since = since
        self.until = until
    }

    func matches(_ event: Envelope) -> Bool {
        if let lead, event.lead != lead { return false }
        if let actor, event.actor != actor { return false }
        if let typePrefix, !event.type.rawValue.hasPrefix(typePrefix) { return false }
        if let since, event.at < since { return false }
        if let until, event.at >= until { return false }
        return true
    }
}
