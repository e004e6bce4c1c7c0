import Foundation
import LedgerSystem
import LMDB

/// The single writer, as a four-stage pipeline with group commit.
///
/// - The **sequencer** thread takes queued append requests, as many as fit in one commit (a
///   group), and prepares them: it checks ids, runs the hook's validation and projection,
///   gives each record its position and lays it out as stored — reading a snapshot of the
///   log plus what it prepared for groups still being committed.
/// - The **chainer** thread extends the hash chain over each prepared group, from the last
///   hash it chained.
/// - The **committer** thread checks that each chained group chains onto the log's tip,
///   stores it in one write transaction and commits it, with its pages flushed but not yet
///   the meta page that makes them the database.
/// - The **syncer** thread flushes the meta pages of the groups committed so far (one flush
///   for all of them), and then answers each request of those groups. (With nothing behind a
///   group and no other flush pending, the committer does this itself.)
///
/// So the next group is prepared while the previous one is hashed, the one before it commits,
/// and the one before that is made durable; the write transaction holds nothing but LMDB work,
/// and a commit costs the committer one flush of the disk instead of two. (Hashing has a thread
/// of its own because both neighbours are busier: the sequencer with validation and projection,
/// the committer with LMDB and waiting for the disk.) A group that the hook (or an
/// `expectedVersion`) says must see everything committed is serial: the sequencer waits for the
/// committer to finish, then prepares the group as any other and stores each record as it is
/// laid out, in one write transaction on its own thread. Write transactions begin and commit on
/// one thread, always.
///
/// If a commit fails, its group and every group prepared after it fail with the same error
/// (their positions and hashes depended on it), and the sequencer starts again from what is
/// committed.
final class Writer: @unchecked Sendable {
    struct Tip {
        var position: UInt64
        var hash: ChainHash
    }

    typealias Completion = @Sendable (Result<[AppendOutcome], any Error>) -> Void

    struct Request {
        var records: PendingBatch
        var chain: AppendChain?
        var completion: Completion
    }

    private let environment: Environment
    private let tables: EventLog.Tables
    private let hook: (any AppendHook)?
    private let maxRecordsPerCommit: Int
    /// Rewrites requests before they are prepared (`EventLog.setSealer`).
    private let sealer: SealerSlot
    /// How many prepared groups may wait for the chainer, and how many chained ones for the
    /// committer.
    private let maxPrepared = 2
    /// Fewer queued records than this wait for the group in flight (see `runSequencer`).
    private static let smallGroup = 128
    /// Fewer queued records than this wait while a group is ready behind the one committing
    /// (see `runSequencer`).
    private static let mediumGroup = 8_192
    /// How long small requests wait, once the group before them is committed, for the
    /// requests that commit answered to come back (see `runSequencer`).
    private static let gatherMicroseconds = 1_000
    /// The records in `queue` (under `signals`).
    private var queuedRecords = 0

    // Sequencer state (its thread only).
    /// The last position after every group prepared so far.
    private var lastPosition: UInt64
    private var nextSequence: UInt64 = 1
    /// The prepared groups not yet seen committed, oldest first.
    private var uncommitted: [PreparedGroup] = []
    /// Where new ids are told apart without a look-up.
    private let gap = IDGap()
    /// What the last `storedPosition` found after a new id's key (see there).
    private let lookupSuccessor = ByteBuffer(capacity: 256)
    private var lookupHasSuccessor = false
    /// Buffers of committed groups, for the next ones (fresh memory costs a page fault per
    /// page).
    private var reusableStorage: [(ByteBuffer, IDOverlay)] = []
    private var reportedCommitted: UInt64 = 0
    private var seenEpoch: UInt64 = 0

    // Shared state, under `signals`.
    private let signals = WriterSignals()
    private var queue: [Request] = []
    /// The requests the last commit answered plus those queued when it ended: how many small
    /// requests the next group may expect (their clients send the next one when answered).
    private var expectedRequests = 0
    /// Prepared groups waiting for the chainer, then chained ones waiting for the committer.
    private var prepared: [PreparedGroup] = []
    private var chained: [PreparedGroup] = []
    /// Committed groups whose meta page the syncer has yet to flush, oldest first.
    private var unsynced: [PreparedGroup] = []
    /// How many flushes are under way (the syncer's, and the committer's own).
    private var syncing = 0
    /// Set when a flush after a commit failed: what was written since may not be on disk, so
    /// nothing more is committed (every later request fails with it) until the log is opened
    /// again.
    private var syncFailure: LogError?
    /// The hash of the last record chained (the chainer's; the sequencer sets it while
    /// nothing is in flight: at the start, after a reset and after a serial group).
    private var chainHash: ChainHash
    /// The highest group sequence stored.
    private var committed: UInt64 = 0
    /// How many write transactions have stored appends.
    private var commitCount = 0
    /// Bumped by the committer when a commit fails: groups prepared in an older epoch fail too.
    private var epoch: UInt64 = 0
    private var lastFailure: (any Error)?
    private var stopping = false
    /// Set once the sequencer has ended and everything it prepared is handled: the chainer
    /// and the committer then end too.
    private var sequencerDone = false
    private var committerDone = false
    private var chainerDone = false
    private var syncerDone = false
    private var started = false

    /// Told the last position after each commit (the log's commit observers).
    private let committedThrough: @Sendable (Commit) -> Void
    /// Makes every commit so far durable (`Environment.sync`).
    private let flush: @Sendable () throws -> Void

    init(
        environment: Environment, tables: EventLog.Tables, hook: (any AppendHook)?, tip: Tip, maxRecordsPerCommit: Int,
        sealer: SealerSlot = SealerSlot(), flush: @escaping @Sendable () throws -> Void,
        committedThrough: @escaping @Sendable (Commit) -> Void = { _ in }
    ) {
        self.sealer = sealer
        self.flush = flush
        self.committedThrough = committedThrough
        self.environment = environment
        self.tables = tables
        self.hook = hook
        self.lastPosition = tip.position
        self.chainHash = tip.hash
        self.maxRecordsPerCommit = max(1, maxRecordsPerCommit)
        // (Each thread names itself, so that `top -H` and `perf` tell them apart.)
        let sequencer = Thread { [unowned self] in self.runSequencer() }
        let chainer = Thread { [unowned self] in self.runChainer() }
        let committer = Thread { [unowned self] in self.runCommitter() }
        let syncer = Thread { [unowned self] in self.runSyncer() }
        started = true
        sequencer.start()
        chainer.start()
        committer.start()
        syncer.start()
    }

    func submit(_ records: PendingBatch, chain: AppendChain? = nil, completion: @escaping Completion) {
        signals.lock()
        if stopping {
            signals.unlock()
            completion(.failure(LogError.closed))
            return
        }
        let before = queuedRecords
        queue.append(Request(records: records, chain: chain, completion: completion))
        queuedRecords += records.count
        // The sequencer waits for a first request, or (see `runSequencer`) for enough of them.
        if before == 0 || (before < Self.smallGroup && queuedRecords >= Self.smallGroup)
            || (before < Self.mediumGroup && queuedRecords >= Self.mediumGroup) || queue.count == expectedRequests
        {
            signals.signal(.sequencer)
        }
        signals.unlock()
    }

    /// Finishes the queued requests, then ends the four threads. Blocks until they have.
    func stop() {
        signals.lock()
        stopping = true
        signals.signalAll()
        while started && !(sequencerDone && chainerDone && committerDone && syncerDone) {
            signals.wait(.stopper)
        }
        signals.unlock()
    }

    /// Set once a flush failed: see `syncFailure`.
    var fault: LogError? {
        signals.lock()
        defer { signals.unlock() }
        return syncFailure
    }

    /// How many write transactions have stored appends so far (group commit: usually far
    /// fewer than the appends).
    var commits: Int {
        signals.lock()
        defer { signals.unlock() }
        return commitCount
    }

    // MARK: Sequencer

    private func runSequencer() {
        System.nameThisThread("ll-sequencer")
        while true {
            signals.lock()
            while queue.isEmpty && !stopping {
                signals.wait(.sequencer)
            }
            if queue.isEmpty && stopping {
                signals.unlock()
                break
            }
            // Small requests wait while a group is on its way to the disk: those that arrive
            // meanwhile join them, so that a stream of small requests (a server's) commits in
            // fewer, larger transactions, each costing two syncs whatever its size.
            while !stopping && (!prepared.isEmpty || !chained.isEmpty || !unsynced.isEmpty || syncing > 0) && queuedRecords < Self.smallGroup {
                signals.wait(.sequencer)
            }
            // Then, briefly, for the requests the last commit answered: their clients send
            // the next at once, and without the wait a group holds only those that arrived
            // during the commit, about half of the clients, so each commit (two syncs) served
            // half as many. (A commit delay, as PostgreSQL's `commit_delay`.)
            if queuedRecords < Self.smallGroup && queue.count < expectedRequests {
                let deadline = WriterSignals.deadline(after: Self.gatherMicroseconds)
                while !stopping && queue.count < expectedRequests && queuedRecords < Self.smallGroup && signals.wait(.sequencer, until: deadline) {}
            }
            expectedRequests = 0
            // Larger requests (a server's bulk posts) wait while a group is ready behind the
            // one committing: a few clients each with one request outstanding then fill two
            // groups that alternate between preparing and committing, not five small ones
            // that each cost a commit's syncs.
            while !stopping && prepared.count + chained.count >= 2 && queuedRecords < Self.mediumGroup {
                signals.wait(.sequencer)
            }
            // Take requests until the commit would exceed the batch limit (always at least one).
            var group: [Request] = []
            var count = 0
            while let next = queue.first, group.isEmpty || count + next.records.count <= maxRecordsPerCommit {
                group.append(next)
                count += next.records.count
                queue.removeFirst()
            }
            queuedRecords -= count
            signals.unlock()
            process(group)
        }
        drain()
        signals.lock()
        sequencerDone = true
        signals.signalAll()
        signals.unlock()
    }

    private func process(_ requests: [Request]) {
        catchUpWithCommitter()
        let (group, durability) = sealed(withoutFailedChains(requests))
        guard !group.isEmpty else { return }
        let serial = group.contains { request in
            if request.records.hasExpectedVersions { return true }
            guard let hook else { return false }
            var serial = false
            request.records.forEachView { _, record in serial = serial || hook.requiresSerial(record) }
            return serial
        }
        if serial {
            drain()
            catchUpWithCommitter()
            let group = withoutFailedChains(group)
            if !group.isEmpty { commitSerially(group, durability: durability) }
            return
        }
        let sequence = nextSequence
        nextSequence += 1
        let work = newGroup(group, sequence: sequence)
        work.durability = durability
        var last = lastPosition
        do {
            let recordedAt = Self.now()
            try environment.read { txn in
                let snapshot = try Snapshot(txn: txn, tables: tables)
                // (Nothing is in flight when the gap is unknown: the snapshot holds every key.)
                if !gap.isKnown { gap.start(above: snapshot.greatestID) }
                try prepare(group, into: work, last: &last, recordedAt: recordedAt, snapshot: snapshot, serial: nil)
            }
            work.hookWrites = try hook?.prepareCommit(sequence: sequence)
        } catch {
            // The hook may have half-applied the group: let the earlier groups commit, then
            // start again from what is stored.
            drain()
            reset()
            fail(group, error)
            return
        }
        lastPosition = last
        uncommitted.append(work)
        signals.lock()
        while prepared.count >= maxPrepared {
            signals.wait(.sequencer)
        }
        prepared.append(work)
        signals.signal(.chainer)
        signals.unlock()
    }

    /// The requests whose chain has not failed; the others are answered with the failure.
    /// (Called after `catchUpWithCommitter`: a chain that fails after this point fails in a
    /// commit of an older epoch, and so takes every group prepared now down with it.)
    private func withoutFailedChains(_ requests: [Request]) -> [Request] {
        signals.lock()
        let failed = requests.map { $0.chain?.failure }
        signals.unlock()
        guard failed.contains(where: { $0 != nil }) else { return requests }
        var kept: [Request] = []
        for (request, failure) in zip(requests, failed) {
            if let failure {
                request.completion(.failure(LogError.earlierRequestFailed(String(describing: failure))))
            } else {
                kept.append(request)
            }
        }
        return kept
    }

    /// The requests with their records sealed (those not sealed yet), and the mark up to which
    /// what they depend on is to be made durable before they are committed (by the chainer,
    /// see `runChainer`); a request whose sealing fails is answered with the failure (its
    /// chain failed: nothing after it is stored).
    private func sealed(_ requests: [Request]) -> ([Request], (sealer: any BatchSealer, mark: UInt64)?) {
        guard let sealer = sealer.current else { return (requests, nil) }
        var kept: [Request] = []
        var mark: UInt64 = 0
        for var request in requests {
            if request.records.isSealed {
                mark = max(mark, request.records.durabilityMark)
                kept.append(request)
                continue
            }
            do {
                let result = try sealer.seal(request.records)
                if let batch = result.batch { request.records = batch }
                request.records.isSealed = true
                mark = max(mark, result.durability)
                kept.append(request)
            } catch {
                fail([request], error)
            }
        }
        return (kept, mark > 0 ? (sealer, mark) : nil)
    }

    /// Answers a failed group's requests, after marking their chains failed.
    private func fail(_ group: [Request], _ error: any Error) {
        signals.lock()
        for request in group where request.chain?.failure == nil { request.chain?.failure = error }
        signals.unlock()
        for request in group { request.completion(.failure(error)) }
    }

    /// A group's buffers, sized for its requests (reused from a committed group if one is
    /// kept).
    private func newGroup(_ group: [Request], sequence: UInt64) -> PreparedGroup {
        var records = 0
        var capacity = 0
        for request in group {
            records += request.records.count
            // (The header, the lengths and the room before each record for its hash input.)
            capacity += request.records.byteCount + request.records.count * 64
        }
        let storage = reusableStorage.popLast() ?? (ByteBuffer(capacity: capacity), IDOverlay(expected: records))
        storage.0.reset(capacity: capacity)
        storage.1.reset(expected: records)
        return PreparedGroup(sequence: sequence, epoch: seenEpoch, requests: group, storage: storage, records: records)
    }

    private func reuseStorage(of group: PreparedGroup) {
        if reusableStorage.count < 2 * maxPrepared + 2 { reusableStorage.append((group.bytes, group.ids)) }
    }

    /// Before a new snapshot: forgets what the committer has stored since the last one (the
    /// snapshot shows it), or starts again if a commit failed.
    private func catchUpWithCommitter() {
        signals.lock()
        let committed = self.committed
        let failed = epoch != seenEpoch
        signals.unlock()
        if failed {
            drain()
            reset()
            return
        }
        guard committed > reportedCommitted else { return }
        while let oldest = uncommitted.first, oldest.sequence <= committed {
            uncommitted.removeFirst()
            reuseStorage(of: oldest)
        }
        reportedCommitted = committed
        hook?.didCommit(through: committed)
    }

    /// Waits until the chainer and the committer have handled every prepared group.
    private func drain() {
        signals.lock()
        while !prepared.isEmpty || !chained.isEmpty {
            signals.wait(.sequencer)
        }
        signals.unlock()
    }

    /// With nothing in flight: drops everything prepared and reads the tip again.
    private func reset() {
        hook?.didAbort()
        uncommitted.removeAll()
        gap.forget()
        signals.lock()
        seenEpoch = epoch
        reportedCommitted = committed
        signals.unlock()
        if let stored = try? environment.read({ txn in try EventLog.readTip(txn, tables) }) {
            lastPosition = stored.position
            signals.lock()
            chainHash = stored.hash
            signals.unlock()
        }
    }

    // MARK: Preparing records (both kinds of group)

    /// What a group is prepared against: a transaction (a snapshot, or a serial group's write
    /// transaction), and the greatest id key it held when the group began (ids often arrive in
    /// order, and one that sorts after it is new without a look-up).
    private struct Snapshot<Txn: TransactionReading> {
        let txn: Txn
        let greatestID: [UInt8]?

        init(txn: Txn, tables: EventLog.Tables) throws {
            self.txn = txn
            greatestID = try txn.withCursor(tables.ids) { try $0.last().map { Array($0.key) } }
        }

        func mayHold(_ key: UnsafeRawBufferPointer) -> Bool {
            guard let greatestID else { return false }
            return greatestID.withUnsafeBytes { KeyOrder.compare(key, $0) <= 0 }
        }
    }

    /// A serial group's records are chained and indexed in its write transaction as they are
    /// laid out, so that the hook sees each of them there before the next is admitted.
    private final class SerialWrite {
        let txn: WriteTransaction
        let tables: EventLog.Tables
        var tip: Tip

        init(txn: WriteTransaction, tables: EventLog.Tables, tip: Tip) {
            self.txn = txn
            self.tables = tables
            self.tip = tip
        }

        func store(_ record: UnsafeMutableRawBufferPointer, position: UInt64) throws {
            tip.hash = RecordFormat.seal(inPlace: record, position: position, previousHash: tip.hash)
            tip.position = position
            let bytes = UnsafeRawBufferPointer(record)
            guard let view = RecordFormat.view(position: position, bytes: bytes) else { throw LogError.corruptRecord(position: position) }
            try position.withBigEndianBytes { positionKey in
                try txn.put(tables.events, key: positionKey, value: bytes, options: .append)
                // The id was checked to be new; `noOverwrite` makes sure.
                try IDKey.withKey(view.id) { key in try txn.put(tables.ids, key: key, value: positionKey, options: .noOverwrite) }
                try txn.put(tables.streams, key: view.stream, value: positionKey, options: .appendDuplicate)
            }
        }
    }

    /// Prepares every record of `group` (and the hook's follow-ups) into `work`, advancing
    /// `last`; a serial group's records are also stored as they go (`serial`).
    private func prepare<Txn: TransactionReading>(
        _ group: [Request], into work: PreparedGroup, last: inout UInt64, recordedAt: Int64, snapshot: Snapshot<Txn>, serial: SerialWrite?
    ) throws {
        for request in group {
            var results: [AppendOutcome] = []
            results.reserveCapacity(request.records.count)
            try request.records.forEachView { _, record in
                results.append(try prepare(record, into: work, last: &last, recordedAt: recordedAt, snapshot: snapshot, serial: serial))
            }
            work.outcomes.append(results)
        }
    }

    /// Prepares one record (and the hook's follow-ups) into `work`, advancing `last`.
    private func prepare<Txn: TransactionReading>(
        _ record: PendingView, into work: PreparedGroup, last: inout UInt64, recordedAt: Int64, snapshot: Snapshot<Txn>, serial: SerialWrite?
    ) throws -> AppendOutcome {
        if let problem = Self.problem(with: record) {
            return .rejected(reason: problem)
        }
        // Ids usually arrive in order: one whose key falls in the gap is new without a look-up.
        let inGap = IDKey.withKey(record.id) { gap.contains($0) }
        if !inGap, let existing = try storedPosition(of: record.id, in: work, snapshot: snapshot) {
            return .duplicate(position: existing)
        }
        if let expected = record.expectedVersion {
            // (A group with an expected version is serial: its records are in `txn`.)
            let actual = try EventLog.streamVersion(record.streamString, txn: snapshot.txn, tables: tables)
            if actual != expected { return .conflict(expected: expected, actual: actual) }
        }
        return try admit(record, in: snapshot.txn) { admitted, attachment in
            // (A replacement keeps the id; should it not, its id is indexed as unchecked.)
            let sameID = admitted.id.baseAddress == record.id.baseAddress || admitted.id.elementsEqual(record.id)
            return try layOut(
                admitted, attachment: attachment, id: sameID ? (inGap ? .inGap : .lookedUp) : .unchecked, into: work, last: &last,
                recordedAt: recordedAt, snapshot: snapshot, serial: serial)
        }
    }

    /// How a record's id was found to be new.
    private enum NewID {
        /// Its key falls in the gap (see `IDGap`).
        case inGap
        /// It was looked up (`storedPosition`).
        case lookedUp
        /// Not at all: a hook's replacement with an id of its own (the commit refuses it if
        /// it is not new).
        case unchecked
    }

    /// After a looked-up id that turned out new: moves the gap to just above its key, up to
    /// the next key the snapshot holds (which the look-up found) — if no prepared group holds
    /// a key in between, which is certain when every id of every group not yet committed is
    /// its own key and sorts before this one (ids arriving in order, after a jump).
    /// Otherwise the gap stays where it is (this key is outside it, so it still holds).
    private func moveGap(to id: UnsafeRawBufferPointer, in work: PreparedGroup) {
        guard IDKey.isOwnKey(id), work.allOwnKeys, let inWork = work.greatestID, KeyOrder.compare(inWork, id) <= 0 else { return }
        for group in uncommitted {
            guard group.allOwnKeys else { return }
            if let greatest = group.greatestID, KeyOrder.compare(greatest, id) >= 0 { return }
        }
        gap.move(above: id, successor: lookupHasSuccessor ? lookupSuccessor.bytes : nil)
    }

    /// Asks the hook about `record`, then has `store` store what it admitted: the record or
    /// its replacement, with the attachment that `didStore` gets. A refusal is returned.
    private func admit(
        _ record: PendingView, in txn: some TransactionReading, store: (PendingView, (any RecordAttachment)?) throws -> AppendOutcome
    ) throws -> AppendOutcome {
        switch try hook?.admit(record, in: txn) ?? .accept {
        case .accept: return try store(record, record.attachment)
        case .attach(let attachment): return try store(record, attachment)
        case .replace(let admitted): return try admitted.withView { try store($0, $0.attachment) }
        case .reject(let reason): return .rejected(reason: reason)
        }
    }

    /// Lays out an admitted record as stored, at the next position, then has the hook apply
    /// it and prepares its follow-ups. `newID`: how the record's id was found to be new.
    private func layOut<Txn: TransactionReading>(
        _ record: PendingView, attachment: (any RecordAttachment)?, id newID: NewID, into work: PreparedGroup, last: inout UInt64,
        recordedAt: Int64, snapshot: Snapshot<Txn>, serial: SerialWrite?
    ) throws -> AppendOutcome {
        let position = last + 1
        var followUps: [PendingRecord] = []
        let (id, stream, payload) = (record.id, record.stream, record.payload)
        let size = RecordFormat.size(idBytes: id.count, streamBytes: stream.count, payloadBytes: payload.count)
        // (With room before it for the chainer to hash it in place.)
        let room = RecordFormat.chainPrefixSize - RecordFormat.headerSize
        let offset = work.bytes.grow(by: room + size) + room
        let out = work.bytes.slice(offset, size)
        RecordFormat.layOut(into: out, recordedAt: recordedAt, id: id, stream: stream, payload: payload)
        // An id in the gap with no upper bound sorts after every key: it is indexed by appending.
        let appendsID = newID == .inGap && !gap.hasUpper
        if newID == .inGap {
            IDKey.withKey(id) { key in gap.take(key) }
        }
        work.append(position: position, offset: offset, count: size, appendsID: appendsID, ownKey: IDKey.isOwnKey(id))
        if newID == .lookedUp {
            moveGap(to: id, in: work)
        }
        try serial?.store(out, position: position)
        if let hook, let view = RecordFormat.view(position: position, bytes: UnsafeRawBufferPointer(out)) {
            // The view points into the group's buffer: use it before it grows.
            try hook.didStore(view, attachment: attachment, in: snapshot.txn)
            followUps = try hook.followUps(after: view, attachment: attachment)
        }
        last = position
        for followUp in followUps {
            _ = try followUp.withView { try prepare($0, into: work, last: &last, recordedAt: recordedAt, snapshot: snapshot, serial: serial) }
        }
        return .appended(position: position)
    }

    /// The position of a record with this id, in this group, a group being committed, or
    /// the snapshot.
    ///
    /// When the id is new, `lookupSuccessor` holds the first key the snapshot holds after its
    /// key, if any (`lookupHasSuccessor`), for `moveGap`: one descent of the index finds both.
    private func storedPosition<Txn: TransactionReading>(
        of id: UnsafeRawBufferPointer, in work: PreparedGroup, snapshot: Snapshot<Txn>
    ) throws -> UInt64? {
        lookupHasSuccessor = false
        if let position = work.position(ofID: id) { return position }
        for group in uncommitted {
            if let position = group.position(ofID: id) { return position }
        }
        return try IDKey.withKey(id) { key in
            guard snapshot.mayHold(key) else { return nil }
            guard let found = try snapshot.txn.withCursor(tables.ids, { try $0.seek(atLeast: key) }) else { return nil }
            if found.key.elementsEqual(key) { return UInt64(bigEndianBytes: found.value) }
            lookupSuccessor.replace(with: found.key)
            lookupHasSuccessor = true
            return nil
        }
    }

    // MARK: Chainer

    private func runChainer() {
        System.nameThisThread("ll-chainer")
        while true {
            signals.lock()
            while prepared.isEmpty && !sequencerDone {
                signals.wait(.chainer)
            }
            guard let work = prepared.first else {
                chainerDone = true
                signals.signalAll()
                signals.unlock()
                return
            }
            var hash = chainHash
            signals.unlock()

            // (A group of an older epoch fails at the committer; hashing it is harmless, and
            // the sequencer sets `chainHash` again before anything new is prepared.)
            work.previousHash = hash
            for entry in work.entries {
                hash = RecordFormat.seal(inPlace: work.bytes.slice(entry.offset, entry.count), position: entry.position, previousHash: hash)
            }
            // What its sealed records depend on (new keys), made durable before the committer
            // sees the group, while it commits the one before. A failure fails the group at
            // the committer as a failed commit would.
            if let durability = work.durability {
                do {
                    try durability.sealer.makeDurable(through: durability.mark)
                } catch {
                    work.durabilityFailure = error
                }
            }

            signals.lock()
            while chained.count >= maxPrepared {
                signals.wait(.chainer)
            }
            chainHash = hash
            prepared.removeFirst()
            chained.append(work)
            signals.signal(.committer)
            // (The sequencer may wait for room in `prepared`, or for it to drain.)
            signals.signal(.sequencer)
            signals.unlock()
        }
    }

    // MARK: Committer

    private func runCommitter() {
        System.nameThisThread("ll-committer")
        while true {
            signals.lock()
            while chained.isEmpty && !(sequencerDone && chainerDone) {
                signals.wait(.committer)
            }
            guard let work = chained.first else {
                committerDone = true
                signals.signalAll()
                signals.unlock()
                return
            }
            let stale = work.epoch != epoch ? lastFailure : nil
            let broken = syncFailure
            signals.unlock()

            var failure = stale ?? broken ?? work.durabilityFailure
            work.commitStarted = ContinuousClock.now
            if failure == nil {
                do {
                    try environment.write(deferringMetaSync: true) { txn in try store(work, in: txn) }
                } catch {
                    failure = error
                }
            }
            if failure == nil {
                // The records are stored: let go of them before answering, so that an
                // appender reusing its batch's memory (bulk ingest) finds it its own.
                for index in work.requests.indices {
                    work.requests[index].records = PendingBatch()
                }
            }

            signals.lock()
            chained.removeFirst()
            // With no group chained behind this one there is nothing to overlap the flush
            // with: the committer flushes itself, and saves the syncer's wake-up. (Only with no
            // other flush pending: groups are made durable, observed and answered in order.)
            let flushHere = failure == nil && chained.isEmpty && unsynced.isEmpty && syncing == 0
            if failure == nil {
                committed = work.sequence
                commitCount += 1
                if flushHere {
                    syncing += 1
                } else {
                    unsynced.append(work)
                    signals.signal(.syncer)
                }
            } else {
                expectedRequests = min(work.requests.count + queue.count, 4_096)
                if stale == nil {
                    epoch += 1
                    lastFailure = failure
                }
            }
            if let failure {
                // (In the same critical section as the epoch: see `withoutFailedChains`.)
                for request in work.requests where request.chain?.failure == nil { request.chain?.failure = failure }
            }
            // The sequencer may wait for the group in flight; the chainer for room in `chained`.
            signals.signal(.sequencer)
            signals.signal(.chainer)
            signals.unlock()

            if let failure {
                for request in work.requests { request.completion(.failure(failure)) }
            } else if flushHere {
                makeDurable([work])
            }
        }
    }

    // MARK: Syncer

    /// Flushes the committed groups' meta pages, all in one flush, and answers their requests:
    /// nobody hears that a record is stored before it would survive a crash of the machine.
    private func runSyncer() {
        System.nameThisThread("ll-syncer")
        while true {
            signals.lock()
            while unsynced.isEmpty && !committerDone {
                signals.wait(.syncer)
            }
            guard !unsynced.isEmpty else {
                syncerDone = true
                signals.signalAll()
                signals.unlock()
                return
            }
            let groups = unsynced
            unsynced.removeAll(keepingCapacity: true)
            syncing += 1
            signals.unlock()
            makeDurable(groups)
        }
    }

    /// Flushes the disk, then tells the log's observers about the committed `groups` and
    /// answers their requests (all failed, and the writer stopped, if the flush failed).
    /// Called with `syncing` counting this flush.
    private func makeDurable(_ groups: [PreparedGroup]) {
        // Groups committed before an earlier flush failed are not flushed again: a later
        // flush can succeed without that failure's pages, which these groups build on.
        signals.lock()
        var failure = syncFailure
        signals.unlock()
        if failure == nil {
            do {
                try flush()
            } catch {
                failure = .notDurable(String(describing: error))
            }
        }
        if let failure {
            signals.lock()
            syncing -= 1
            if syncFailure == nil { syncFailure = failure }
            signals.signal(.sequencer)
            signals.unlock()
            return fail(groups.flatMap(\.requests), failure)
        }
        var answered = 0
        for work in groups {
            environment.releaseMappedPages()
            if let last = work.entries.last?.position {
                let duration = work.commitStarted.map { ContinuousClock.now - $0 } ?? .zero
                committedThrough(Commit(lastPosition: last, records: work.entries.count, duration: duration))
            }
            for (request, result) in zip(work.requests, work.outcomes) {
                request.completion(.success(result))
            }
            answered += work.requests.count
        }
        signals.lock()
        syncing -= 1
        expectedRequests = min(answered + queue.count, 4_096)
        // The sequencer may wait for the groups on their way to the disk.
        signals.signal(.sequencer)
        signals.unlock()
    }

    /// Stores a chained group (run again from the start if the map grows).
    private func store(_ work: PreparedGroup, in txn: WriteTransaction) throws {
        let tip = try EventLog.readTip(txn, tables)
        if let first = work.entries.first {
            guard first.position == tip.position + 1 else {
                throw LogError.outOfSequence(expected: tip.position + 1, prepared: first.position)
            }
            guard work.previousHash == tip.hash else { throw LogError.chainedOffTip(position: first.position) }
        }
        // Through cursors kept for the whole group: LMDB skips the descent from the root when
        // the key is on the page the cursor is on (a lead's run of events, ids in order).
        try txn.withCursor(tables.events) { events in
            try txn.withCursor(tables.ids) { ids in
                try txn.withCursor(tables.streams) { streams in
                    for entry in work.entries {
                        let bytes = UnsafeRawBufferPointer(work.bytes.slice(entry.offset, entry.count))
                        guard let view = RecordFormat.view(position: entry.position, bytes: bytes) else {
                            throw LogError.corruptRecord(position: entry.position)
                        }
                        try entry.position.withBigEndianBytes { positionKey in
                            try events.put(key: positionKey, value: bytes, options: .append)
                            // The sequencer checked that the id is new; `noOverwrite` makes sure.
                            try IDKey.withKey(view.id) { key in
                                try ids.put(key: key, value: positionKey, options: entry.appendsID ? .append : .noOverwrite)
                            }
                            try streams.put(key: view.stream, value: positionKey, options: .appendDuplicate)
                        }
                    }
                }
            }
        }
        try work.hookWrites?(txn)
        if let name = hook?.checkpointName, let last = work.entries.last {
            try EventLog.setCheckpoint(name, to: last.position, in: txn, tables: tables)
        }
    }

    // MARK: Serial groups

    /// Prepares and stores a group in one write transaction on the sequencer's thread, with
    /// nothing else in flight, through the same preparation as every group: its records are
    /// chained and indexed as they are laid out, so the hook sees the group's own records in
    /// `txn` (a `rules.published` rescores leads from their streams).
    private func commitSerially(_ group: [Request], durability: (sealer: any BatchSealer, mark: UInt64)?) {
        signals.lock()
        let broken = syncFailure
        signals.unlock()
        if let broken { return fail(group, broken) }
        let sequence = nextSequence
        nextSequence += 1
        var attempt = 0
        // Every id is looked up in the write transaction (the gap is learnt again after).
        gap.forget()
        defer { gap.forget() }
        do {
            if let durability { try durability.sealer.makeDurable(through: durability.mark) }
            let (work, newTip) = try environment.write { txn -> (PreparedGroup, Tip) in
                if attempt > 0 { hook?.didAbort() }
                attempt += 1
                let before = try EventLog.readTip(txn, tables)
                let serial = SerialWrite(txn: txn, tables: tables, tip: before)
                let work = newGroup(group, sequence: sequence)
                var last = before.position
                try prepare(group, into: work, last: &last, recordedAt: Self.now(), snapshot: Snapshot(txn: txn, tables: tables), serial: serial)
                if let hook {
                    try hook.prepareCommit(sequence: sequence)?(txn)
                    if let name = hook.checkpointName, serial.tip.position > before.position {
                        try EventLog.setCheckpoint(name, to: serial.tip.position, in: txn, tables: tables)
                    }
                }
                return (work, serial.tip)
            }
            lastPosition = newTip.position
            signals.lock()
            chainHash = newTip.hash
            committed = sequence
            commitCount += 1
            signals.unlock()
            reportedCommitted = sequence
            hook?.didCommit(through: sequence)
            environment.releaseMappedPages()
            committedThrough(Commit(lastPosition: newTip.position, records: work.entries.count, duration: .zero))
            reuseStorage(of: work)
            for (request, result) in zip(group, work.outcomes) {
                request.completion(.success(result))
            }
        } catch {
            reset()
            fail(group, error)
        }
    }

    /// When the log stores a group: milliseconds since 1970.
    private static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Structural limits of the log (the domain validates everything else).
    static func problem(with record: PendingView) -> String? {
        if record.id.isEmpty { return "the id is empty" }
        if record.id.count > UInt16.max { return "the id is longer than \(UInt16.max) bytes" }
        if record.stream.isEmpty { return "the stream is empty" }
        if record.stream.count > RecordFormat.maxKeyBytes { return "the stream name is longer than \(RecordFormat.maxKeyBytes) bytes" }
        return nil
    }
}

/// Requests that must be stored in order, all or a prefix: once one fails, the writer stores
/// none of the later ones (they fail with `LogError.earlierRequestFailed`). A bulk ingest
/// submits its batches in one chain, so its stored part is always a prefix of its input.
public final class AppendChain: @unchecked Sendable {
    /// The first failure, set under the writer's lock.
    var failure: (any Error)?

    public init() {}
}

/// A commit that landed: the log's last position after it, how many records it stored and
/// how long it took from the start of its write transaction to the flush that made it
/// durable (zero for a serial group, which is not timed).
public struct Commit: Sendable {
    public var lastPosition: UInt64
    public var records: Int
    public var duration: Duration
}
