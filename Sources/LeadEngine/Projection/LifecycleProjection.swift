import Dispatch
import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// The lead projection: validates every lead event against its lead's state, keeps that
/// state (stage, owner, profile, activity, stage history, scoring matches) in the `leads`
/// table, scores leads live under the published rules and appends `lead.qualified` when one
/// reaches the threshold — all committed in the same write transaction as the append. Runs
/// on the log's sequencer thread only (or on a replay's thread, with the writer idle).
///
/// The leads a group of appends touches are cached (`slots`) and encoded, in key order, when
/// the group is complete (`prepareCommit`). The writer commits a group while the next one is
/// prepared against a snapshot that does not show it yet, so a lead stays cached until its
/// last group is committed (`didCommit(through:)`), and is read from the table after that:
/// memory does not grow with the number of leads.
final class LifecycleProjection: AppendHook, @unchecked Sendable {
    static let tableName = "leads"
    static let journeysTableName = "journeys"
    /// Bump the suffix when the projected state changes shape: the store rebuilds it.
    static let checkpoint = "leads.v4"

    let leads: Table
    /// lead → its journey (attribution and funnel inputs).
    let journeys: Table
    let dimensions: Dimensions
    let reader: LogReader
    /// The rules in force (the latest `rules.published`), if any.
    private(set) var scorer: Scorer?
    /// After an abort: `scorer` may hold rules that were never committed; read them again.
    private var rulesStale = false
    /// When false (replays), no follow-up events are derived: they are already in the log.
    var derivesEvents = true

    /// A lead touched in this transaction: its state and journey, mutated in place (a class,
    /// so that updates never copy the state's arrays).
    final class Slot {
        var state: LeadState
        var journey: Journey?
        /// `journey` was read from the table (or created) since the lead was cached.
        var journeyLoaded = false
        var dirty = false
        /// The last append group that changed it (set when the group is prepared).
        var sequence: UInt64 = 0
        /// The `generation` in which it was last put in `touched`.
        var touchedIn = -1
        /// `state.profile` encoded, when known without encoding it: a capture's profile is
        /// the capture's stored data. `nil` once the profile changes.
        var encodedProfile: [UInt8]?
        /// The profile's fit points under `scorer`, once evaluated: live scoring evaluates a
        /// lead after most events, and the fit rules' regular expressions are the costly part.
        /// `nil` once the profile changes; the scorer is kept to tell another rules' apart.
        var fit: (scorer: Scorer, points: Double)?
        /// The profile is still only `encodedProfile` (`state.profile` is empty): a replay
        /// keeps a capture's data encoded until something reads the profile (`loadProfile`).
        private(set) var profilePending = false

        /// Gives `state.profile` its value, if it was left encoded.
        func loadProfile() throws {
            guard profilePending, let encodedProfile else { return }
            state.profile = try encodedProfile.withUnsafeBytes { try EventCodec.decodeObject($0) }
            profilePending = false
        }

        /// A new lead whose profile stays encoded until it is read.
        init(state: LeadState, encodedProfile: [UInt8]) {
            self.state = state
            self.encodedProfile = encodedProfile
            profilePending = true
        }

        /// `state.stageEnteredAt`, from the stored fields (a getter of `state` copies it whole).
        var stageEnteredAt: Timestamp {
            state.stages.last?.at ?? state.capturedAt
        }

        /// The fit points of the profile under `scorer`, evaluated once per profile and rules.
        func fitPoints(under scorer: Scorer) throws -> Double {
            if let fit, fit.scorer === scorer { return fit.points }
            try loadProfile()
            let points = scorer.fitPoints(state.profile)
            fit = (scorer, points)
            return points
        }

        init(state: LeadState) {
            self.state = state
        }
    }

    private let slots = LeadTable<Slot>()
    private var missing: Set<String> = []
    /// In a replay from position 1 (into emptied tables): the hashes of every lead cached so
    /// far, so of every lead stored. A lead whose hash is not here is in no table, and is not
    /// looked for there: each new lead's first event spared a look-up that finds nothing
    /// (1,400 instructions a lead, a B-tree descent on a random key).
    private var knownLeads: Set<UInt64>?
    /// The slots cached or changed since the last group was prepared (`generation` counts
    /// the groups), each once; then, for each group prepared and not yet seen committed,
    /// those of that group. `prepareCommit` and `didCommit` then visit only these, not
    /// every cached lead: scanning and copying the whole cache once per group was a
    /// twentieth of the log's sequencer.
    private var touched: [Slot] = []
    private var generation = 0
    private var touchedByGroup: [(sequence: UInt64, slots: [Slot])] = []
    /// The lead last looked up by its bytes.
    private var recent = RecentLead<Slot>()

    var checkpointName: String? { Self.checkpoint }

    /// `dimensions` is shared by the shards of a parallel replay.
    init(environment: Environment, reader: LogReader, scorer: Scorer?, dimensions: Dimensions? = nil) throws {
        leads = try environment.table(Self.tableName)
        journeys = try environment.table(Self.journeysTableName)
        self.dimensions = try dimensions ?? Dimensions(environment: environment)
        self.reader = reader
        self.scorer = scorer
    }

    /// The rules in force as `txn` sees the log.
    static func currentRules(reader: LogReader, in txn: some TransactionReading) throws -> ScoringRules? {
        guard let record = try reader.last(stream: Envelope.systemStream, in: txn) else { return nil }
        let event = try LeadStore.event(from: record)
        return try ScoringRules(document: .object(event.data))
    }

    // MARK: State

    /// The cached lead (its state as of everything applied so far in this transaction, with
    /// its scoring matches brought up to the rules in force), read from the table if need be.
    private func slot(of lead: String, in txn: some TransactionReading) throws -> Slot? {
        let hash = LeadTable<Slot>.hash(lead)
        return try slots.value(lead, hash: hash) ?? uncachedSlot(lead, hash: hash, in: txn)
    }

    /// `slot(of:in:)` for a lead not cached, whose id hashes to `hash`.
    private func uncachedSlot(_ lead: String, hash: UInt64, in txn: some TransactionReading) throws -> Slot? {
        if let knownLeads, !knownLeads.contains(hash) { return nil }
        if missing.contains(lead) { return nil }
        guard let stored = try Self.read(lead, from: leads, in: txn) else {
            missing.insert(lead)
            return nil
        }
        let slot = Slot(state: stored)
        if stored.rulesVersion != scorer?.rules.version {
            try rescore(&slot.state, in: txn)
            slot.dirty = true
        }
        cache(slot, as: lead, hash: hash)
        return slot
    }

    /// `slot(of:in:)` by the lead's bytes, remembering the last one found: a lead's events
    /// often come in runs, and this spares making a `String` and hashing it. (The check of
    /// the last lead is inlined into the replay's loop; the rest is not.)
    @inline(__always)
    private func slot(of lead: UnsafeRawBufferPointer, in txn: some TransactionReading) throws -> Slot? {
        if let slot = recent.value(lead) { return slot }
        return try slot(notRecent: lead, in: txn)
    }

    @inline(never)
    private func slot(notRecent lead: UnsafeRawBufferPointer, in txn: some TransactionReading) throws -> Slot? {
        // A cached lead is found by its bytes; only a lead read from the table (or not
        // found) needs its id as a `String`.
        let hash = LeadTable<Slot>.hash(lead)
        let found = try slots.value(lead, hash: hash) ?? uncachedSlot(String(decoding: lead, as: UTF8.self), hash: hash, in: txn)
        recent.remember(found, as: lead)
        return found
    }

    static func read(_ lead: String, from table: Table, in txn: some TransactionReading) throws -> LeadState? {
        try lead.withUTF8Bytes { key in
            try txn.get(table, key: key).map { try LeadStateCodec.decode($0, lead: lead) }
        }
    }

    /// Recomputes a lead's matches under the rules in force from its events in the log.
    private func rescore(_ state: inout LeadState, in txn: some TransactionReading) throws {
        state.matches = []
        state.rulesVersion = scorer?.rules.version
        guard let scorer else { return }
        try reader.forEach(stream: state.lead, in: txn) { record in
            scorer.record(try LeadStore.event(from: record), position: record.position, into: &state.matches)
        }
    }

    // MARK: AppendHook

    /// A `rules.published` (the system stream) rescores the cached leads from their streams,
    /// so it must see every earlier event in its transaction.
    func requiresSerial(stream: UnsafeRawBufferPointer) -> Bool {
        Dimensions.equal(Self.systemStream, stream)
    }

    private static let systemStream = Array(Envelope.systemStream.utf8)

    /// What every call with a transaction needs first: the rules and dimensions committed.
    private func ready(_ txn: some TransactionReading) throws {
        if rulesStale {
            scorer = try Self.currentRules(reader: reader, in: txn).map(Scorer.init)
            rulesStale = false
        }
        try dimensions.prepare(in: txn)
    }

    func admit<T: TransactionReading>(_ record: PendingView, in txn: T) throws -> AdmitDecision {
        try ready(txn)
        let type = try EventCodec.header(record.payload).type
        if type.isTouch {
            // Most of the input, checked without decoding: a touch needs only a known lead.
            if try slot(of: record.stream, in: txn) != nil { return .accept }
            return Lifecycle.refusal(ofTouch: type, id: record.idString, lead: record.streamString, leadIsKnown: false).map { .reject(reason: $0) } ?? .accept
        }
        if type == .leadCaptured {
            // Refused only for a known lead; applied read in place (`capture`), so not decoded.
            let state = try slot(of: record.stream, in: txn)?.state
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
        // (The record's stream is its lead.)
        let slot = try slot(of: record.stream, in: txn)
        if let reason = Lifecycle.refusal(of: decoded.event, given: slot?.state) {
            return .reject(reason: reason)
        }
        if decoded.event.type == .leadHandedOff, let slot {
            // The engine stamps the lead's score and the rules version at the handoff.
            var stamped = decoded.event
            let score = try scorer.map { try $0.evaluate(fit: slot.fitPoints(under: $0), matches: slot.state.matches, at: stamped.at).score }
            stamped.data["score"] = score.map(JSONValue.number) ?? .null
            stamped.data["rulesVersion"] = .nullable(scorer?.rules.version)
            admitted = .replace(LeadStore.pending(stamped))
        }
        return admitted
    }

    /// Appends and replays apply the same stored bytes (`apply(stored:)`), so a live
    /// projection and a rebuilt one cannot differ.
    func didStore<T: TransactionReading>(_ record: RecordView, attachment: (any RecordAttachment)?, in txn: T) throws {
        try ready(txn)
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

    func followUps(after record: RecordView, attachment: (any RecordAttachment)?) throws -> [PendingRecord] {
        // (The state's parts are read one by one: passing `slot.state` whole copies it.)
        guard derivesEvents, let scorer, let (type, at) = try? EventCodec.header(record.payload), LiveScoring.triggers(type),
              let slot = cachedSlot(record.stream),
              let qualification = LiveScoring.qualification(
                at: at, stage: slot.state.stage, enteredAt: slot.stageEnteredAt, matches: slot.state.matches,
                fit: try slot.fitPoints(under: scorer), scorer: scorer)
        else { return [] }
        let qualified = LiveScoring.qualifiedEvent(
            lead: slot.state.lead, trigger: record.idString, score: qualification.score, at: qualification.at, rulesVersion: scorer.rules.version)
        return [LeadStore.pending(qualified)]
    }

    /// The slot of a lead touched in this transaction, if any (never reads the table).
    private func cachedSlot(_ lead: UnsafeRawBufferPointer) -> Slot? {
        recent.value(lead) ?? slots.value(lead, hash: LeadTable<Slot>.hash(lead))
    }


    /// Caches a slot (see `touched`); `hash` is the lead's, when already known.
    private func cache(_ slot: Slot, as lead: String, hash known: UInt64? = nil) {
        let hash = known ?? LeadTable<Slot>.hash(lead)
        slots.set(slot, for: lead, hash: hash)
        knownLeads?.insert(hash)
        note(slot)
    }

    /// For a replay from position 1, into tables emptied first: the leads not met yet are
    /// known to be in no table (see `knownLeads`).
    func replaysIntoEmptyTables() {
        knownLeads = []
    }

    /// Marks a cached lead as changed (see `touched`).
    private func markDirty(_ slot: Slot) {
        slot.dirty = true
        note(slot)
    }

    private func note(_ slot: Slot) {
        guard slot.touchedIn != generation else { return }
        slot.touchedIn = generation
        touched.append(slot)
    }

    @discardableResult
    func apply(_ event: Envelope, position: UInt64, in txn: some TransactionReading, interner: Interner) throws -> Slot? {
        guard let lead = event.lead else { return nil }
        let slot: Slot
        if let existing = try self.slot(of: lead, in: txn) {
            slot = existing
            // (An enrichment merges into the profile: it must be there first.)
            if event.type == .leadCaptured || event.type == .leadEnriched { try slot.loadProfile() }
            Lifecycle.apply(event, position: position, to: &slot.state)
        } else {
            var created: LeadState?
            Lifecycle.apply(event, position: position, to: &created)
            guard let state = created else { return nil }
            slot = Slot(state: state)
            slot.state.rulesVersion = scorer?.rules.version
            slot.journeyLoaded = true
            cache(slot, as: lead)
            missing.remove(lead)
        }
        scorer?.record(event, position: position, into: &slot.state.matches)
        markDirty(slot)
        if event.type == .leadCaptured || event.type == .leadEnriched {
            slot.encodedProfile = nil
            slot.fit = nil
        }

        try loadJourney(of: slot, in: txn)
        let entered = slot.state.stages.last.flatMap { $0.position == position ? $0.stage : nil }
        try interner.withInterning(at: position) { intern in
            JourneyBuilder.apply(event, position: position, to: &slot.journey, stageAfter: entered) { value in
                value.map { $0.withUTF8Bytes(intern) } ?? 0
            }
        }
        return slot
    }

    /// Applies a stored event read in place (appends and replays alike). A touch — most of the
    /// log — is applied without decoding its data; anything else is decoded (unless `decoded`
    /// already holds it) and applied as usual.
    @inline(__always)
    func apply(
        stored payload: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer, lead leadBytes: UnsafeRawBufferPointer, position: UInt64,
        in txn: some TransactionReading, interner: Interner, decoded: DecodedEvent? = nil
    ) throws {
        let view = try EventView(payload)
        guard view.type.isTouch, let slot = try slot(of: leadBytes, in: txn) else {
            if view.type == .leadCaptured, try slot(of: leadBytes, in: txn) == nil {
                return try capture(view, lead: leadBytes, position: position, interner: interner, decoded: decoded)
            }
            if let decoded {
                try apply(decoded.event, position: position, in: txn, interner: interner)
            } else {
                // (Not boxed in a `DecodedEvent`: each copy of an event costs a retain a field.)
                let event = try EventCodec.decode(payload, id: String(decoding: id, as: UTF8.self), lead: String(decoding: leadBytes, as: UTF8.self))
                try apply(event, position: position, in: txn, interner: interner)
            }
            return
        }
        Lifecycle.applyTouch(at: view.at, to: &slot.state)
        scorer?.record(view, position: position, into: &slot.state.matches)
        markDirty(slot)
        try loadJourney(of: slot, in: txn)
        if case .draft(let draft) = interner {
            // A replay: the draft's interner, specialized (3 % of a replay's instructions
            // went to calling the closure below; the live dictionary's, which can fail, did
            // not gain from it).
            var interning = DraftInterning(draft: draft, position: position)
            JourneyBuilder.applyTouch(view, position: position, to: &slot.journey, interning: &interning)
        } else {
            try interner.withInterning(at: position) { intern in
                JourneyBuilder.applyTouch(view, position: position, to: &slot.journey, intern: intern)
            }
        }
    }

    /// A new lead's capture, read in place: its profile is the capture's data, kept encoded
    /// (for `dirtyRows`, and decoded only if something reads it) unless the appender decoded
    /// the event already. `Lifecycle.captured` and `JourneyBuilder.captured` do what applying
    /// the decoded event does (`apply(_:position:in:interner:)`).
    private func capture(
        _ view: EventView, lead leadBytes: UnsafeRawBufferPointer, position: UInt64, interner: Interner, decoded: DecodedEvent?
    ) throws {
        let lead = String(decoding: leadBytes, as: UTF8.self)
        let fields = view.touchFields
        let state = Lifecycle.captured(lead: lead, at: view.at, actor: view.actor, hasChannel: view.hasChannel(fields), position: position)
        let slot: Slot
        if let decoded {
            slot = Slot(state: state)
            slot.state.profile = decoded.event.data
            slot.encodedProfile = Array(view.encodedData)
        } else {
            slot = Slot(state: state, encodedProfile: Array(view.encodedData))
        }
        slot.state.rulesVersion = scorer?.rules.version
        if let scorer {
            scorer.record(view, position: position, into: &slot.state.matches)
            // The profile is the capture's data: its fit is read from there, in place.
            slot.fit = (scorer, scorer.fitPoints(view))
        }
        slot.dirty = true
        slot.journeyLoaded = true
        cache(slot, as: lead)
        missing.remove(lead)
        recent.remember(slot, as: leadBytes)
        slot.journey = try interner.withInterning(at: position) { intern in
            JourneyBuilder.captured(fields, at: view.at, position: position, intern: intern)
        }
    }

    /// Reads a cached lead's journey from the table, the first time it is needed.
    private func loadJourney(of slot: Slot, in txn: some TransactionReading) throws {
        guard !slot.journeyLoaded else { return }
        slot.journey = try Self.readJourney(slot.state.lead, from: journeys, in: txn)
        slot.journeyLoaded = true
    }

    static func readJourney(_ lead: String, from table: Table, in txn: some TransactionReading) throws -> Journey? {
        try lead.withUTF8Bytes { key in
            try txn.get(table, key: key).map { try JourneyCodec.decode($0) }
        }
    }

    /// New rules are in force from this point: cached leads are rescored now, the others
    /// when they are next loaded (or by the store's refresh after the append).
    func publish(_ rules: ScoringRules, in txn: some TransactionReading) throws {
        scorer = Scorer(rules)
        for (_, slot) in slots.all.sorted(by: { $0.lead < $1.lead }) {
            try rescore(&slot.state, in: txn)
            markDirty(slot)
        }
    }

    /// For replays: score with these rules from the start.
    func use(_ rules: ScoringRules?) {
        scorer = rules.map(Scorer.init)
    }

    /// Empties every table of the projection (a rebuild starts from nothing).
    func clear(in txn: WriteTransaction) throws {
        try txn.clear(leads)
        try txn.clear(journeys)
        try txn.clear(dimensions.table)
        dimensions.reset()
    }

    /// The leads a group (or replay chunk) changed, encoded for storing: each lead's key,
    /// state and journey as ranges of one buffer.
    struct Rows: Sendable {
        struct Row {
            var lead: Range<Int>
            var state: Range<Int>
            var journey: Range<Int>?
        }

        /// Written by the thread that encodes the rows, then only read (after a hand-over).
        let bytes: EncodedBytes
        var rows: [Row]
    }

    /// The leads changed since the last group (or replay chunk), encoded, in no particular
    /// order (`write` stores them in key order), for group `sequence`: they are marked clean
    /// and as last changed by it. `dimensionIDs` (a replay shard's settled draft) replaces
    /// provisional dimension ids first.
    func dirtyRows(dimensionIDs: [UInt32]? = nil, committing sequence: UInt64) -> Rows {
        // Every lead changed since the last group is in `touched` (see `markDirty`).
        var rows = Rows(bytes: EncodedBytes(capacity: 512 * touched.count), rows: [])
        rows.rows.reserveCapacity(touched.count)
        for slot in touched where slot.dirty {
            slot.dirty = false
            slot.sequence = sequence
            if let dimensionIDs, !dimensionIDs.isEmpty {
                slot.journey?.mapDimensions { DimensionDraft.resolve($0, with: dimensionIDs) }
            }
            let lead = slot.state.lead.withUTF8Bytes { rows.bytes.append($0) }
            let state = LeadStateCodec.encode(slot.state, profile: slot.encodedProfile, into: rows.bytes)
            let journey = slot.journey.map { JourneyCodec.encode($0, into: rows.bytes) }
            rows.rows.append(Rows.Row(lead: lead, state: state, journey: journey))
        }
        touchedByGroup.append((sequence, touched))
        touched = []
        generation += 1
        return rows
    }

    /// Stores encoded leads (every row of every part), in key order, which LMDB inserts
    /// fastest: through cursors kept for all the rows, most keys land on the page the cursor
    /// is already on, and LMDB then skips the descent from the root.
    static func write(_ parts: [Rows], leads: Table, journeys: Table, in txn: WriteTransaction) throws {
        var order: [(part: Int, row: Int)] = []
        order.reserveCapacity(parts.reduce(0) { $0 + $1.rows.count })
        for (part, rows) in parts.enumerated() {
            for row in rows.rows.indices { order.append((part, row)) }
        }
        order.sort { a, b in
            let (left, right) = (parts[a.part], parts[b.part])
            return KeyOrder.compare(left.bytes[left.rows[a.row].lead], right.bytes[right.rows[b.row].lead]) < 0
        }
        try txn.withCursor(leads) { leadCursor in
            try txn.withCursor(journeys) { journeyCursor in
                for (part, index) in order {
                    let (bytes, row) = (parts[part].bytes, parts[part].rows[index])
                    let key = bytes[row.lead]
                    try leadCursor.put(key: key, value: bytes[row.state])
                    if let journey = row.journey { try journeyCursor.put(key: key, value: bytes[journey]) }
                }
            }
        }
    }

    /// Encodes the leads the group changed and the dimension values it met, for its commit.
    func prepareCommit(sequence: UInt64) throws -> (@Sendable (WriteTransaction) throws -> Void)? {
        let rows = dirtyRows(committing: sequence)
        let assigned = dimensions.takeAssigned()
        let (leads, journeys, dimensionTable) = (self.leads, self.journeys, dimensions.table)
        return { txn in
            try Dimensions.store(assigned, in: dimensionTable, txn: txn)
            try Self.write([rows], leads: leads, journeys: journeys, in: txn)
        }
    }

    /// The groups through `sequence` are stored: their leads are read from the table again.
    func didCommit(through sequence: UInt64) {
        // A lead cached or changed in a committed group is let go unless a later group has
        // changed it since (that group's list, or `touched`, holds it then).
        var released: [Slot] = []
        while let group = touchedByGroup.first, group.sequence <= sequence {
            touchedByGroup.removeFirst()
            for slot in group.slots where !slot.dirty && slot.sequence <= sequence {
                // (Only this very slot: one let go earlier may have been cached again since.)
                if slots.remove(slot.state.lead, ifItIs: slot) { released.append(slot) }
            }
        }
        let retired = Retired(released)
        missing.removeAll(keepingCapacity: true)
        recent.forget()
        // The leads let go are freed on another thread: this one (the log's sequencer) is
        // on every record's path, and freeing a few thousand states and journeys is a few
        // percent of its work.
        DispatchQueue.global().async { retired.release() }
    }

    /// Cached leads handed to another thread only to be freed there (nothing else touches
    /// them: the projection keeps its own references to those it still needs).
    private final class Retired: @unchecked Sendable {
        private var slots: [Slot]?

        init(_ slots: [Slot]) {
            self.slots = slots
        }

        func release() {
            slots = nil
        }
    }

    /// Nothing uncommitted happened: forget every cached lead, the assigned dimension ids and
    /// any rules published in the aborted group.
    func didAbort() {
        forget()
        dimensions.unload()
        rulesStale = true
    }

    /// How many leads are cached (for tests, when the writer is idle): the leads of the
    /// groups not yet seen committed.
    var cachedLeadCount: Int { slots.count }

    /// Drops the cached leads (after an abort).
    func forget() {
        slots.removeAll()
        missing.removeAll(keepingCapacity: true)
        touched.removeAll()
        touchedByGroup.removeAll()
        generation += 1
        recent.forget()
    }
}

/// An event already decoded from a pending record's payload, handed along with the record (its
/// attachment) so that the projection does not decode it again. A class: casting an attachment
/// to it is a type check and a retain, where casting to `Envelope` copies the whole event.
final class DecodedEvent: Sendable {
    let event: Envelope

    init(_ event: Envelope) {
        self.event = event
    }

    /// The decoded event a pending record's attachment is, if it is one. (Pass the box
    /// around rather than an `Envelope?`: copying or destroying an optional event goes through
    /// the runtime's generic value witnesses, which cost more than applying a touch.)
    static func of(_ attachment: (any RecordAttachment)?) -> DecodedEvent? {
        attachment as? DecodedEvent
    }
}
