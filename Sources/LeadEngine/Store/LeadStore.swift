import Dispatch
import Foundation
import EventLog
import Synchronization
import LeadDomain
import LedgerJSON
import LMDB

/// A LeadLedger store: the event log of lead events in one directory, with the lifecycle's
/// validation and projection running inside every append.
public final class LeadStore: Sendable {
    public let log: EventLog
    public let path: String
    /// Small facts about the projections (which generation is current, which rules the
    /// scores are under).
    let meta: Table
    /// The log's append hook (the writer's threads use it; tests look at its cache when the
    /// writer is idle).
    let lifecycle: LifecycleProjection?
    /// The generation of projection tables in force, and its `leads` table (a rebuild from
    /// position 1 switches generations: see `ProjectionTables`).
    private let current: Mutex<(tables: ProjectionTables, leads: Table)>

    var projectionTables: ProjectionTables { current.withLock { $0.tables } }
    var leads: Table { current.withLock { $0.leads } }

    /// The checkpoint of the lead projection in force.
    public var projectionCheckpoint: String { projectionTables.checkpoint }

    /// The keys of each lead's personal fields, when the store keeps them encrypted (it has
    /// a key store: see `LeadKeyStore`); `nil` for a store that keeps them in plaintext.
    public let keys: LeadKeyStore?

    public struct Options: Sendable {
        public var log = EventLog.Options()
        /// The master key (`--master-key-file`, `LEADLEDGER_MASTER_KEY`). Given to a writer of
        /// a store without a key store, it creates one: personal fields are sealed from then
        /// on. A store with a key store needs it to append personal fields (anything else —
        /// rebuilds, rules, merges, erasures — works without it) and to read them: a reader
        /// without it reads them as locked.
        public var masterKey: MasterKey?
        /// The personal fields a new key store records (later opens use the recorded list).
        public var personalFields = PersonalFields()
        public init() {}

        /// Options to open an existing store for reading only: no writer lock is taken (so a
        /// reader never waits for a writer), nothing is created or caught up, and a store on
        /// read-only media can be read.
        public static var reading: Options {
            var options = Options()
            options.log.readOnly = true
            return options
        }
    }

    /// Opens (or creates) the store at `path` for writing — taking its writer lock, see
    /// `EventLog.Options.waitForWriter` — or opens an existing one for reading
    /// (`Options.reading`). Opened for writing, a lifecycle projection behind the log (a store
    /// written before it existed, or a crash between an append and a rebuild) is caught up
    /// from its checkpoint first.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        if options.log.readOnly {
            do {
                self.log = try EventLog(path: path, options: options.log)
            } catch let error as LMDBError where error.code == .notFound {
                throw StoreError.noStore(path)
            }
            self.lifecycle = nil
            do {
                self.meta = try log.environment.table("meta")
                let tables = try Self.currentTables(meta: meta, in: log.environment)
                // Every table is opened now: a table first opened inside a read transaction
                // would not be valid in that transaction.
                for name in [tables.journeys, tables.dimensions] {
                    _ = try log.environment.table(name)
                }
                // (A store written before accounts has none; `account show` then says so.)
                _ = try? log.environment.table(tables.accounts)
                self.current = Mutex((tables, try log.environment.table(tables.leads)))
                self.keys = try Self.openKeys(path: path, options: options, writing: false)
            } catch {
                log.close()
                throw error
            }
            return
        }
        var lifecycle: LifecycleProjection?
        var opened: (meta: Table, tables: ProjectionTables)?
        self.log = try EventLog(path: path, options: options.log) { environment, reader in
            let meta = try environment.table("meta")
            let tables = try Self.currentTables(meta: meta, in: environment)
            opened = (meta, tables)
            let rules = try environment.read { txn in try LifecycleProjection.currentRules(reader: reader, in: txn) }
            let projection = try LifecycleProjection(environment: environment, reader: reader, rules: rules, tables: tables)
            lifecycle = projection
            return projection
        }
        self.lifecycle = lifecycle
        do {
            guard let opened else { throw LogError.closed }
            self.meta = opened.meta
            self.current = Mutex((opened.tables, try log.environment.table(opened.tables.leads)))
            // (Opened under the writer lock the log took: one process appends keys.)
            self.keys = try Self.openKeys(path: path, options: options, writing: true)
            if let keys { log.setSealer(PersonalFieldSealer(keys: keys)) }
            try catchUp()
            try refreshScoresIfNeeded()
        } catch {
            log.close()
            throw error
        }
    }

    /// The store's key store, if it has one (or gets one: a writer given a master key).
    static func openKeys(path: String, options: Options, writing: Bool) throws -> LeadKeyStore? {
        let exists = FileManager.default.fileExists(atPath: path + "/" + LeadKeyStore.fileName)
        guard exists || (writing && options.masterKey != nil) else { return nil }
        return try LeadKeyStore(
            directory: path, master: options.masterKey, create: writing, writable: writing, personal: options.personalFields)
    }

    /// The generation of projection tables in force, as `meta` records it.
    static func currentTables(meta: Table, in environment: Environment) throws -> ProjectionTables {
        let stored = try environment.read { txn in
            try txn.get(meta, key: Array(ProjectionTables.generationKey.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        return ProjectionTables(generation: stored.flatMap { Int($0) } == 1 ? 1 : 0)
    }

    /// After a rebuild made `tables` current: every reader and the writer's hook use them.
    func adopt(_ tables: ProjectionTables) throws {
        let leads = try log.environment.table(tables.leads)
        current.withLock { $0 = (tables, leads) }
        try lifecycle?.retarget(tables, environment: log.environment)
    }

    /// Whether the projections reflect the whole log under the rules in force (a store opened
    /// for writing always does; one opened for reading may not, if a writer stopped between
    /// an append and its rebuild).
    public var projectionsAreCurrent: Bool {
        get throws {
            try log.checkpoint(projectionTables.checkpoint) >= log.lastPosition && currentRules()?.version == scoresVersion()
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

    /// The rules the projected scores were computed with (`nil`: none).
    func scoresVersion() throws -> String? {
        let key = Array(projectionTables.scoresVersionKey.utf8)
        return try log.environment.read { txn in
            try txn.get(meta, key: key).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    func setScoresVersion(_ version: String?, of tables: ProjectionTables, in txn: WriteTransaction) throws {
        let key = Array(tables.scoresVersionKey.utf8)
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
        let names = projectionTables
        let tables = try [names.leads, names.journeys, names.dimensions, names.accounts].map { try log.environment.table($0) }
        return try log.environment.read { txn in
            var rows: [(key: [UInt8], value: [UInt8])] = []
            for table in tables {
                let label = Array(ProjectionTables.baseName(table.name).utf8)
                try txn.withCursor(table) { cursor in
                    var entry = try cursor.first()
                    while let current = entry {
                        rows.append((label + [0] + Array(current.key), Array(current.value)))
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

    /// The lead's state as it was at `time`, rebuilt from its events in the log (a lead
    /// merged into it by then counts as the projection counts it: rebuilt and absorbed).
    public func lead(_ id: String, asOf time: Timestamp) throws -> LeadState? {
        try state(of: id, before: .max, asOf: time)
    }

    private func state(of lead: String, before limit: UInt64, asOf time: Timestamp) throws -> LeadState? {
        let rows = try history(of: lead, before: limit, merges: false).sorted { $0.position < $1.position }
        var state: LeadState?
        for row in rows where row.event.at <= time {
            guard Lifecycle.refusal(of: row.event, given: state) == nil else { continue }
            Lifecycle.apply(row.event, position: row.position, to: &state)
            if var survivor = state, let duplicate = Self.mergedDuplicate(row.event),
               let absorbed = try self.state(of: duplicate, before: row.position, asOf: time) {
                Merge.absorb(absorbed, into: &survivor)
                state = survivor
            }
        }
        return state
    }

    /// The lead a merge in a survivor's stream absorbs (`nil` for any other event, and for
    /// the marker in the duplicate's stream).
    static func mergedDuplicate(_ event: Envelope) -> String? {
        guard event.type == .leadMerged, event.data["into"] == nil else { return nil }
        return event.data["duplicate"]?.stringValue
    }

    /// The lead's events in log order, with the events of the visitors joined to it (stored
    /// before their link, in the visitor's stream) and of the leads merged into it (stored
    /// before the merge, in the duplicate's stream, with whatever that one absorbed) among
    /// them. A duplicate's events keep its id as their lead.
    public func history(of lead: String) throws -> [LoggedEvent] {
        try history(of: lead, before: .max, merges: true).sorted { $0.position < $1.position }.map(shown)
    }

    /// A row as readers see it: its sealed values opened (or read as erased or locked).
    /// (Everything that computes — scores, replays, merges — works on the sealed values, so
    /// that it gives the same before and after an erasure.)
    func shown(_ row: LoggedEvent) -> LoggedEvent {
        guard let keys else { return row }
        var row = row
        row.event.data = EventCodec.opened(row.event.data, by: keys)
        return row
    }

    /// A lead's state as readers see it: its profile's sealed values opened.
    public func shown(_ state: LeadState) -> LeadState {
        guard let keys else { return state }
        var state = state
        state.profile = EventCodec.opened(state.profile, by: keys)
        return state
    }

    /// `merges`: with the events of the leads merged into it.
    private func history(of lead: String, before limit: UInt64, merges includeMerges: Bool) throws -> [LoggedEvent] {
        var rows: [LoggedEvent] = []
        var links: [(visitor: String, position: UInt64)] = []
        var merges: [(duplicate: String, position: UInt64)] = []
        try log.forEach(stream: lead) { record in
            guard record.position < limit else { return }
            let row = try LoggedEvent(record: record)
            rows.append(row)
            if row.event.type == .identityLinked, let visitor = row.event.data["visitor"]?.stringValue {
                links.append((visitor, record.position))
            }
            if includeMerges, let duplicate = Self.mergedDuplicate(row.event) {
                merges.append((duplicate, record.position))
            }
        }
        for link in links {
            try log.forEach(stream: Envelope.visitorStream(link.visitor)) { record in
                guard record.position < link.position, !LifecycleProjection.isLink(payload: record.payload) else { return }
                var row = try LoggedEvent(record: record)
                row.event.lead = lead
                rows.append(row)
            }
        }
        for merge in merges {
            rows += try history(of: merge.duplicate, before: merge.position, merges: true)
        }
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
            if filter.matches(row.event) { try body(shown(row)) }
        }
        if let lead = filter.lead {
            for row in try history(of: lead) where filter.matches(row.event, lead: false) { try body(row) }
        } else {
            try log.forEach(visit)
        }
    }
}

extension LeadStore {
    /// One page of `audit`: up to `limit` matching events after position `after`, and the
    /// position to ask for the next page from (nil when there is no more). A page reads only
    /// as far as it needs.
    public func auditPage(_ filter: AuditFilter, after: UInt64, limit: Int) throws -> (rows: [LoggedEvent], next: UInt64?) {
        let page = try scan(filter, after: after, limit: limit)
        return (page.rows, page.next)
    }

    /// `auditPage`, and the last position it looked at (matching or not): where a follower
    /// of the log (the server's stream) goes on from.
    public func scan(_ filter: AuditFilter, after: UInt64, limit: Int) throws -> (rows: [LoggedEvent], next: UInt64?, scannedThrough: UInt64) {
        struct Full: Error {}
        var rows: [LoggedEvent] = []
        var scanned = after
        let wanted = max(limit, 1)
        func visit(_ record: RecordView) throws {
            guard record.position > after else { return }
            scanned = record.position
            if let prefix = filter.typePrefix {
                let header = try EventCodec.header(record.payload)
                guard header.type.rawValue.hasPrefix(prefix) else { return }
            }
            let row = try LoggedEvent(record: record)
            guard filter.matches(row.event) else { return }
            rows.append(shown(row))
            if rows.count == wanted { throw Full() }
        }
        // A lead's audit is its journey's events (`history`): with those of the visitors joined
        // to it and of the leads merged into it, which are stored in their own streams.
        if let lead = filter.lead {
            let journey = try history(of: lead).filter { $0.position > after }
            scanned = journey.last?.position ?? after
            for row in journey where filter.matches(row.event, lead: false) {
                rows.append(row)
                if rows.count == wanted {
                    scanned = row.position
                    break
                }
            }
            return (rows, rows.count == wanted ? rows.last?.position : nil, scanned)
        }
        do {
            if after < .max {
                try log.forEach(from: after + 1, visit)
            }
        } catch is Full {}
        return (rows, rows.count == wanted ? rows.last?.position : nil, scanned)
    }
}

extension LeadStore {
    /// `scan` for a follower that sends the events on as JSON (the server's stream): up to
    /// `limit` events after `after` whose type starts with `typePrefix`, each handed to `body`
    /// undecoded, valid only during the call. Returns how many and the last position scanned.
    public func scanStored(
        typePrefix: String?, after: UInt64, limit: Int, _ body: (StoredEventView) throws -> Void
    ) throws -> (count: Int, scannedThrough: UInt64) {
        struct Full: Error {}
        var count = 0
        var scanned = after
        let wanted = max(limit, 1)
        guard after < .max else { return (0, after) }
        do {
            try log.forEach(from: after + 1, chunkSize: wanted) { record in
                scanned = record.position
                let type = try EventCodec.header(record.payload).type
                if let typePrefix, !type.rawValue.hasPrefix(typePrefix) { return }
                try body(StoredEventView(record: record, type: type, opener: keys))
                count += 1
                if count == wanted { throw Full() }
            }
        } catch is Full {}
        return (count, scanned)
    }
}

/// A stored event seen in place (see `LeadStore.scanStored`).
public struct StoredEventView {
    let record: RecordView
    public let type: EventType
    /// Opens its sealed values (`nil`: a plaintext store).
    let opener: (any SealedValueOpener)?
    public var position: UInt64 { record.position }
    /// When the log recorded it (its group's commit).
    public var recordedAt: Timestamp { Timestamp(microseconds: record.recordedAt * 1000) }

    /// The event as `LeadJSON.event` renders it, byte for byte.
    public func writeJSON(into out: inout [UInt8]) throws {
        try EventCodec.writeJSON(
            position: record.position, recordedAt: recordedAt, id: record.id, lead: record.stream, payload: record.payload, opener: opener,
            into: &out)
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

    /// `lead: false` leaves the lead out (for a journey's events, which are the lead's
    /// though some are stored under a visitor or a merged duplicate).
    func matches(_ event: Envelope, lead checkLead: Bool = true) -> Bool {
        if checkLead, let lead, event.lead != lead { return false }
        if let actor, event.actor != actor { return false }
        if let typePrefix, !event.type.rawValue.hasPrefix(typePrefix) { return false }
        if let since, event.at < since { return false }
        if let until, event.at >= until { return false }
        return true
    }
}

/// Opening a store failed for a reason of the store itself.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A read found no store at the path (reads never create one).
    case noStore(String)

    public var description: String {
        switch self {
        case .noStore(let path): return "no LeadLedger store at \(path)"
        }
    }
}
