import Dispatch
import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// The lead projection: validates every lead event against its lead's state, keeps that
/// state (stage, owner, profile, activity, stage history, scoring hits) in the `leads` table
/// and each lead's journey in `journeys`, and scores leads live under the published rules
/// (`LiveScorer`), appending `lead.qualified` when one reaches the threshold — all committed in
/// the same write transaction as the append. Runs on the log's sequencer thread only (or on a
/// replay shard's thread, with the writer idle).
///
/// The leads a group of appends touches are held in a `LeadCache` and encoded, in key order,
/// when the group is complete (`prepareCommit`, `LeadRows`); the cache lets them go once their
/// group is committed.
final class LifecycleProjection: AppendHook, @unchecked Sendable {
    /// The generation of tables it reads and writes (see `ProjectionTables`).
    @exclusivity(unchecked) private(set) var tables: ProjectionTables
    @exclusivity(unchecked) private(set) var leads: Table
    /// lead → its journey (attribution and funnel inputs).
    @exclusivity(unchecked) private(set) var journeys: Table
    /// account ‖ 0 ‖ lead: each account's leads.
    @exclusivity(unchecked) private(set) var accounts: Table
    @exclusivity(unchecked) private(set) var dimensions: Dimensions
    let reader: LogReader
    /// Live scoring under the rules in force (the latest `rules.published`), if any.
    @exclusivity(unchecked) private(set) var live: LiveScorer?
    /// After an abort: `live` may hold rules that were never committed; read them again.
    private var rulesStale = false
    /// When false (replays), no follow-up events are derived: they are already in the log.
    var derivesEvents = true
    /// False for a rebuild (`replaysIntoEmptyTables`), which fills the index once at its end:
    /// the rows encoded then carry no `accounts` index keys.
    private(set) var listsAccounts = true
    private let cache = LeadCache()
    /// Which visitors are joined to which leads (see `LifecycleProjection+Visitors`).
    let links = VisitorLinks()

    var checkpointName: String? { tables.checkpoint }

    /// `dimensions` is shared by the shards of a parallel replay.
    init(environment: Environment, reader: LogReader, rules: ScoringRules?, tables: ProjectionTables, dimensions: Dimensions? = nil) throws {
        self.tables = tables
        leads = try environment.table(tables.leads)
        journeys = try environment.table(tables.journeys)
        accounts = try environment.table(tables.accounts)
        self.dimensions = try dimensions ?? Dimensions(environment: environment, tables: tables)
        self.reader = reader
        live = rules.map { LiveScorer(Scorer($0)) }
    }

    /// A projection of its own over the same tables, dimensions and rules, that never reads
    /// the tables and derives nothing: for rebuilding one lead from its stream (a merge's
    /// duplicate, `rebuiltLead`) without touching the cached leads.
    init(scratchOf parent: LifecycleProjection) {
        tables = parent.tables
        leads = parent.leads
        journeys = parent.journeys
        accounts = parent.accounts
        dimensions = parent.dimensions
        reader = parent.reader
        live = parent.live
        derivesEvents = false
        cache.startFromEmptyTables()
    }

    /// After a rebuild made another generation current (with the writer idle): reads and
    /// writes that one from now on.
    func retarget(_ tables: ProjectionTables, environment: Environment) throws {
        self.tables = tables
        leads = try environment.table(tables.leads)
        journeys = try environment.table(tables.journeys)
        accounts = try environment.table(tables.accounts)
        dimensions = try Dimensions(environment: environment, tables: tables)
        forget()
    }

    /// The rules in force as `txn` sees the log.
    static func currentRules(reader: LogReader, in txn: some TransactionReading) throws -> ScoringRules? {
        guard let record = try reader.last(stream: Envelope.systemStream, in: txn) else { return nil }
        let event = try LeadStore.event(from: record)
        return try ScoringRules(document: .object(event.data))
    }

    // MARK: Leads

    /// The cached lead (its state as of everything applied so far in this transaction, with
    /// its scoring hits brought up to the rules in force), read from the table if need be.
    func cachedLead(_ lead: String, in txn: some TransactionReading) throws -> CachedLead? {
        let hash = LeadTable<CachedLead>.hash(lead)
        return try cache.lead(lead, hash: hash) ?? uncachedLead(lead, hash: hash, in: txn)
    }

    /// `cachedLead(_:in:)` for a lead not cached, whose id hashes to `hash`.
    private func uncachedLead(_ lead: String, hash: UInt64, in txn: some TransactionReading) throws -> CachedLead? {
        if cache.isKnownAbsent(lead, hash: hash) { return nil }
        guard let stored = try Self.read(lead, from: leads, in: txn) else {
            cache.noteAbsent(lead)
            return nil
        }
        let cached = CachedLead(state: stored)
        cached.indexedAccount = stored.mergedInto == nil ? stored.account : nil
        if stored.rulesVersion != live?.rules.version {
            try rescore(cached, in: txn)
            cached.changed = true
        } else {
            live?.rescored(cached)
        }
        cache.insert(cached, as: lead, hash: hash)
        return cached
    }

    /// `cachedLead(_:in:)` by the lead's bytes, remembering the last one found: a lead's
    /// events often come in runs, and this spares making a `String` and hashing it. (The check
    /// of the last lead is inlined into the replay's loop; the rest is not.)
    @inline(__always)
    private func cachedLead(_ lead: UnsafeRawBufferPointer, in txn: some TransactionReading) throws -> CachedLead? {
        if let found = cache.recentLead(lead) { return found }
        if cache.wasLastFoundNowhere(lead) { return nil }
        return try cachedLead(notRecent: lead, in: txn)
    }

    @inline(never)
    private func cachedLead(notRecent lead: UnsafeRawBufferPointer, in txn: some TransactionReading) throws -> CachedLead? {
        // A cached lead is found by its bytes; only a lead read from the table (or not
        // found) needs its id as a `String`.
        let hash = LeadTable<CachedLead>.hash(lead)
        let found = try cache.lead(lead, hash: hash) ?? uncachedLead(String(decoding: lead, as: UTF8.self), hash: hash, in: txn)
        cache.remember(found, as: lead)
        return found
    }

    static func read(_ lead: String, from table: Table, in txn: some TransactionReading) throws -> LeadState? {
        try lead.withUTF8Bytes { key in
            try txn.get(table, key: key).map { try LeadStateCodec.decode($0, lead: lead) }
        }
    }

    /// Recomputes a lead's hits under the rules in force from its events in the log.
    private func rescore(_ cached: CachedLead, in txn: some TransactionReading) throws {
        cached.state.matches = []
        cached.state.rulesVersion = live?.rules.version
        guard let live else { return }
        try forEachEvent(of: cached.state.lead, in: txn) { event, position in
            live.scorer.record(event, position: position, into: &cached.state.matches)
        }
        live.rescored(cached)
    }

    // MARK: AppendHook

    /// A `rules.published` (the system stream) rescores the cached leads from their streams,
    /// and a link applies its visitor's stream, a merge its duplicate's: each must see every
    /// earlier event in its transaction.
    func requiresSerial(_ record: PendingView) -> Bool {
        Self.systemStream.hasSameBytes(as: record.stream) || Self.isLink(payload: record.payload) || mayMerge(record)
    }

    private static let systemStream = Array(Envelope.systemStream.utf8)

    /// What every call with a transaction needs first: the rules in force and the dimension
    /// ids as committed.
    private func loadCommitted(_ txn: some TransactionReading) throws {
        if rulesStale {
            live = try Self.currentRules(reader: reader, in: txn).map { LiveScorer(Scorer($0)) }
            rulesStale = false
        }
        try dimensions.prepare(in: txn)
    }

    func admit<T: TransactionReading>(_ record: PendingView, in txn: T) throws -> AdmitDecision {
        try loadCommitted(txn)
        let type = try EventCodec.header(record.payload).type
        // (Tracking's ids, and only theirs, start with `$`.)
        if record.id.first == Envelope.reservedIDPrefix || type == .identityLinked, let decision = try admitTracked(record, in: txn) {
            return decision
        }
        if type.isTouch {
            // Most of the input, checked without decoding: a touch needs only a known lead.
            if let cached = try cachedLead(record.stream, in: txn) {
                if cached.state.mergedInto == nil { return .accept }
                return try admitForSurvivor(EventCodec.decode(record.payload, id: record.idString, lead: record.streamString), in: txn)
            }
            return Lifecycle.refusal(ofTouch: type, id: record.idString, lead: record.streamString, leadIsKnown: false).map { .reject(reason: $0) } ?? .accept
        }
        if type == .leadCaptured {
            // Refused only for a known lead; applied read in place (`capture`), so not decoded.
            let state = try cachedLead(record.stream, in: txn)?.state
            if state?.mergedInto != nil {
                return try admitForSurvivor(EventCodec.decode(record.payload, id: record.idString, lead: record.streamString), in: txn)
            }
            return Lifecycle.refusal(ofCapture: record.idString, lead: record.streamString, given: state).map { .reject(reason: $0) } ?? .accept
        }
        // The event decoded on the reading thread, or decoded here and attached, so that
        // `didStore` applies it without decoding it again. (Read through the box: copying an
        // `Envelope` out of it costs more than the checks.)
        let attached = DecodedEvent.of(record.attachment)
        let decoded = try attached ?? DecodedEvent(EventCodec.decode(record.payload, id: record.idString, lead: record.streamString))
        var admitted: AdmitDecision = attached == nil ? .attach(decoded) : .accept
        guard decoded.event.lead != nil else {
            if decoded.event.type == .rulesPublished {
                do {
                    _ = try ScoringRules(document: .object(decoded.event.data))
                } catch {
                    return .reject(reason: "rules.published \"\(decoded.event.id)\" refused: \(error)")
                }
            }
            return admitted
        }
        if decoded.event.type == .leadErased, record.id.first != Envelope.reservedIDPrefix {
            // (Only `LeadStore.erase`, which destroys the keys first, writes one.)
            return .reject(reason: "lead.erased \"\(decoded.event.id)\" refused: a lead is erased by `leadledger lead erase` or DELETE /v1/leads/{id}, which destroy its keys before they append lead.erased")
        }
        // (The record's stream is its lead.)
        let cached = try cachedLead(record.stream, in: txn)
        if decoded.event.type == .leadMerged {
            return try admitMerge(decoded.event, survivor: cached, id: record.id, in: txn).map { .reject(reason: $0) } ?? admitted
        }
        if cached?.state.mergedInto != nil {
            return try admitForSurvivor(decoded.event, in: txn)
        }
        if let reason = Lifecycle.refusal(of: decoded.event, given: cached?.state) {
            return .reject(reason: reason)
        }
        if decoded.event.type == .salesRejected, let reason = try duplicateRejectionRefusal(decoded.event, cached: cached, in: txn) {
            return .reject(reason: reason)
        }
        if decoded.event.type == .leadHandedOff, let cached {
            // The engine stamps the lead's score and the rules version at the handoff.
            var stamped = decoded.event
            let score = try live.map { try $0.score(of: cached, at: stamped.at) }
            stamped.data["score"] = score.map(JSONValue.number) ?? .null
            stamped.data["rulesVersion"] = .nullable(live?.rules.version)
            admitted = .replace(LeadStore.pending(stamped))
        }
        return admitted
    }

    /// Appends and replays apply the same stored bytes (`apply(stored:)`), so a live
    /// projection and a rebuilt one cannot differ.
    func didStore<T: TransactionReading>(_ record: RecordView, attachment: (any RecordAttachment)?, in txn: T) throws {
        try loadCommitted(txn)
        let type = try EventCodec.header(record.payload).type
        // (A touch has no attachment; not even looking spares copying an empty existential.)
        let decoded = type.isTouch ? nil : DecodedEvent.of(attachment)
        if derivesEvents && type == .rulesPublished {
            let data = try decoded?.event.data ?? LeadStore.event(from: record).data
            try publish(ScoringRules(document: .object(data)), in: txn)
        }
        try apply(
            stored: record.payload, id: record.id, lead: record.stream, position: record.position,
            in: txn, interner: .live(dimensions), decoded: decoded)
    }

    /// Live scoring's `lead.qualified`, when the event just stored qualifies its lead.
    func followUps(after record: RecordView, attachment: (any RecordAttachment)?) throws -> [PendingRecord] {
        guard derivesEvents else { return [] }
        let marker = Self.isLink(payload: record.payload) ? try visitorMarker(after: record, attachment: attachment) : nil
        let merge = try mergeFollowUp(after: record, attachment: attachment)
        return (marker.map { [$0] } ?? []) + (merge.map { [$0] } ?? []) + (try qualification(after: record))
    }

    private func qualification(after record: RecordView) throws -> [PendingRecord] {
        guard let live, let (type, at) = try? EventCodec.header(record.payload), LiveScoring.triggers(type),
              let cached = cachedLeadNoRead(record.stream), cached.state.mergedInto == nil,
              let qualification = try live.qualification(after: type, at: at, of: cached)
        else { return [] }
        return [LeadStore.pending(live.qualifiedEvent(lead: cached.state.lead, trigger: record.idString, qualification))]
    }

    /// The lead, if it was touched in this transaction (never reads the table).
    private func cachedLeadNoRead(_ lead: UnsafeRawBufferPointer) -> CachedLead? {
        cache.recentLead(lead) ?? cache.lead(lead, hash: LeadTable<CachedLead>.hash(lead))
    }

    /// For a replay from position 1, into tables emptied first (see `LeadCache`). It lists no
    /// lead in the `accounts` index: a rebuild fills it once, at its end (`swapIn`).
    func replaysIntoEmptyTables() {
        cache.startFromEmptyTables()
        listsAccounts = false
    }

    // MARK: Applying events

    @discardableResult
    func apply(_ event: Envelope, position: UInt64, in txn: some TransactionReading, interner: Interner, internAt: UInt64? = nil) throws -> CachedLead? {
        guard let lead = event.lead else { return nil }
        let cached: CachedLead
        let profileChanges = event.type == .leadCaptured || event.type == .leadEnriched
        if let existing = try cachedLead(lead, in: txn) {
            cached = existing
            // (An enrichment merges into the profile: it must be there first.)
            if profileChanges { try cached.loadProfile() }
            Lifecycle.apply(event, position: position, to: &cached.state)
        } else {
            var created: LeadState?
            Lifecycle.apply(event, position: position, to: &created)
            guard let state = created else { return nil }
            cached = CachedLead(state: state)
            cached.state.rulesVersion = live?.rules.version
            cached.journeyLoaded = true
            cache.insert(cached, as: lead, hash: LeadTable<CachedLead>.hash(lead))
        }
        if profileChanges { cached.profileChanged() }
        live?.record(event, position: position, of: cached)
        cache.markChanged(cached)

        try loadJourney(of: cached, in: txn)
        let entered = cached.state.stages.last.flatMap { $0.position == position ? $0.stage : nil }
        try interner.withInterning(at: internAt ?? position) { intern in
            JourneyBuilder.apply(event, position: position, to: &cached.journey, stageAfter: entered) { value in
                value.map { $0.withUTF8Bytes(intern) } ?? 0
            }
        }
        if event.type == .identityLinked, let visitor = event.data["visitor"]?.stringValue {
            try applyVisitor(visitor, to: lead, linkPosition: position, in: txn, interner: interner, internAt: internAt ?? position)
        }
        if event.type == .leadMerged {
            try applyMerge(event, to: cached, position: position, in: txn, interner: interner, internAt: internAt ?? position)
        }
        return cached
    }

    /// Applies a stored event read in place (appends and replays alike). A touch — most of the
    /// log — is applied without decoding its data; anything else is decoded (unless `decoded`
    /// already holds it) and applied as usual.
    @inline(__always)
    func apply(
        stored payload: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer, lead leadBytes: UnsafeRawBufferPointer, position: UInt64,
        in txn: some TransactionReading, interner: Interner, decoded: DecodedEvent? = nil, internAt: UInt64? = nil
    ) throws {
        let view = try EventView(payload)
        guard view.type.isTouch, let cached = try cachedLead(leadBytes, in: txn) else {
            // A visitor's events are no lead's until a link applies them (and the system
            // stream's are about none).
            if leadBytes.first == Envelope.reservedIDPrefix { return }
            if view.type == .leadCaptured, try cachedLead(leadBytes, in: txn) == nil {
                return try capture(view, lead: leadBytes, position: position, interner: interner, decoded: decoded, internAt: internAt)
            }
            if let decoded {
                try apply(decoded.event, position: position, in: txn, interner: interner, internAt: internAt)
            } else {
                // (Not boxed in a `DecodedEvent`: each copy of an event costs a retain a field.)
                let event = try EventCodec.decode(payload, id: String(decoding: id, as: UTF8.self), lead: String(decoding: leadBytes, as: UTF8.self))
                try apply(event, position: position, in: txn, interner: interner, internAt: internAt)
            }
            return
        }
        Lifecycle.applyTouch(at: view.at, to: &cached.state)
        live?.recordTouch(view, position: position, of: cached)
        cache.markChanged(cached)
        try loadJourney(of: cached, in: txn)
        if case .draft(let draft) = interner {
            // A replay: the draft's interner, specialized (3 % of a replay's instructions
            // went to calling the closure below; the live dictionary's, which can fail, did
            // not gain from it).
            var interning = DraftInterning(draft: draft, position: internAt ?? position)
            JourneyBuilder.applyTouch(view, position: position, to: &cached.journey, interning: &interning)
        } else {
            try interner.withInterning(at: internAt ?? position) { intern in
                JourneyBuilder.applyTouch(view, position: position, to: &cached.journey, intern: intern)
            }
        }
    }

    /// A new lead's capture, read in place: its profile is the capture's data, kept encoded
    /// (for `LeadRows`, and decoded only if something reads it) unless the appender decoded
    /// the event already. `Lifecycle.captured` and `JourneyBuilder.captured` do what applying
    /// the decoded event does (`apply(_:position:in:interner:)`).
    private func capture(
        _ view: EventView, lead leadBytes: UnsafeRawBufferPointer, position: UInt64, interner: Interner, decoded: DecodedEvent?,
        internAt: UInt64? = nil
    ) throws {
        let lead = String(decoding: leadBytes, as: UTF8.self)
        let fields = view.touchFields
        let state = Lifecycle.captured(
            lead: lead, at: view.at, actor: view.actor, hasChannel: view.hasChannel(fields), position: position, account: view.capturedAccount)
        let cached: CachedLead
        if let decoded {
            cached = CachedLead(state: state)
            cached.state.profile = decoded.event.data
            cached.encodedProfile = Array(view.encodedData)
        } else {
            cached = CachedLead(state: state, encodedProfile: Array(view.encodedData))
        }
        cached.state.rulesVersion = live?.rules.version
        live?.recordCapture(view, position: position, of: cached)
        cached.changed = true
        cached.journeyLoaded = true
        cache.insert(cached, as: lead, hash: LeadTable<CachedLead>.hash(lead))
        cache.remember(cached, as: leadBytes)
        cached.journey = try interner.withInterning(at: internAt ?? position) { intern in
            JourneyBuilder.captured(fields, at: view.at, position: position, intern: intern)
        }
    }

    /// Reads a cached lead's journey from the table, the first time it is needed.
    private func loadJourney(of cached: CachedLead, in txn: some TransactionReading) throws {
        guard !cached.journeyLoaded else { return }
        cached.journey = try Self.readJourney(cached.state.lead, from: journeys, in: txn)
        cached.journeyLoaded = true
    }

    static func readJourney(_ lead: String, from table: Table, in txn: some TransactionReading) throws -> Journey? {
        try lead.withUTF8Bytes { key in
            try txn.get(table, key: key).map { try JourneyCodec.decode($0) }
        }
    }

    // MARK: Rules

    /// New rules are in force from this point: cached leads are rescored now, the others
    /// when they are next loaded (or by the store's refresh after the append).
    func publish(_ rules: ScoringRules, in txn: some TransactionReading) throws {
        live = LiveScorer(Scorer(rules))
        for (_, cached) in cache.all.sorted(by: { $0.lead < $1.lead }) {
            try rescore(cached, in: txn)
            cache.markChanged(cached)
        }
    }

    /// For replays: score with these rules from the start.
    func use(_ rules: ScoringRules?) {
        live = rules.map { LiveScorer(Scorer($0)) }
    }

    // MARK: Storing

    /// Empties every table of the projection (a rebuild starts from nothing).
    func clear(in txn: WriteTransaction) throws {
        try txn.clear(leads)
        try txn.clear(journeys)
        try txn.clear(accounts)
        try txn.clear(dimensions.table)
        dimensions.reset()
    }

    /// The leads changed since the last group (or replay chunk), encoded for group
    /// `sequence` (see `LeadRows.encode`).
    func changedRows(dimensionIDs: [UInt32]? = nil, committing sequence: UInt64) -> LeadRows {
        LeadRows.encode(cache.takeTouched(for: sequence), dimensionIDs: dimensionIDs, listsAccounts: listsAccounts, committing: sequence)
    }

    /// Encodes the leads the group changed and the dimension values it met, for its commit.
    func prepareCommit(sequence: UInt64) throws -> (@Sendable (WriteTransaction) throws -> Void)? {
        let rows = changedRows(committing: sequence)
        let assigned = dimensions.takeAssigned()
        let (leads, journeys, accounts, dimensionTable) = (self.leads, self.journeys, self.accounts, dimensions.table)
        return { txn in
            try Dimensions.store(assigned, in: dimensionTable, txn: txn)
            try LeadRows.write([rows], leads: leads, journeys: journeys, accounts: accounts, in: txn)
        }
    }

    /// The groups through `sequence` are stored: their leads are read from the table again.
    func didCommit(through sequence: UInt64) {
        cache.didCommit(through: sequence)
    }

    /// Nothing uncommitted happened: forget every cached lead, the assigned dimension ids and
    /// any rules published in the aborted group.
    func didAbort() {
        forget()
        links.forget()
        dimensions.unload()
        rulesStale = true
    }

    /// How many leads are cached (for tests, when the writer is idle): the leads of the
    /// groups not yet seen committed.
    var cachedLeadCount: Int { cache.count }

    /// Drops the cached leads (after an abort).
    func forget() {
        cache.removeAll()
    }
}
