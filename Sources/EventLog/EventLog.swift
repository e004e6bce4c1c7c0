import Crypto
import Foundation
import LMDB
import Synchronization

/// The append-only log: gapless positions from 1, a per-stream index, a durable idempotency
/// index, a SHA-256 hash chain, checkpoints — all in one LMDB environment.
///
/// Writes go through a single writer with group commit: concurrent appends are queued,
/// prepared together (ids, validation, positions) on one thread, chained on a second and
/// stored in one write transaction on a third while the next groups are prepared, and each
/// caller is answered after the commit is durable (see `Writer`). Reads run on the caller's
/// thread in short read transactions.
public final class EventLog: @unchecked Sendable {
    public struct Options: Sendable {
        public var environment = Environment.Options()
        /// The most records the writer stores in one transaction (several requests are
        /// combined up to this; a single larger request still commits in one transaction).
        public var maxRecordsPerCommit = 100_000
        /// Opens an existing log for reading only: no writer lock, no writer, nothing created.
        public var readOnly = false
        /// When another process holds the store's writer lock: nil fails at once
        /// (`LogError.writerBusy`); else wait, after calling this with who holds it.
        public var waitForWriter: (@Sendable (String) -> Void)?
        /// Said of this process in the writer lock, for those who wait (e.g. a server's
        /// address); the pid and command line are always there.
        public var writerDetail: String?
        /// How the writer makes its commits durable (`Environment.sync`): a test replaces it to
        /// fail as a disk can.
        var flush: (@Sendable (Environment) throws -> Void)?
        public init() {}
    }

    public let environment: Environment
    let tables: Tables
    /// Nil when the log is open read-only.
    private let writer: Writer?
    private let observers = CommitObservers()
    private let writerLock: WriterLock?
    /// What rewrites records before they are appended (`setSealer`).
    private let sealer = SealerSlot()

    struct Tables: Sendable {
        /// position (big-endian u64) → record
        let events: Table
        /// id key → position
        let ids: Table
        /// stream → positions (duplicate keys, fixed-size big-endian values, in log order)
        let streams: Table
        /// checkpoint name → position
        let checkpoints: Table
    }

    /// Opens (creating if needed) the log in directory `path`. `makeHook`, if given, builds
    /// the hook that validates and projects inside every write transaction; it may open its
    /// own tables in the environment.
    ///
    /// Opened for writing, it first takes the store's writer lock (see `WriterLock` and
    /// `Options.waitForWriter`); opened read-only (`Options.readOnly`), it needs an existing
    /// log and takes no lock, so readers never wait.
    public init(path: String, options: Options = Options(), makeHook: ((Environment, LogReader) throws -> any AppendHook)? = nil) throws {
        var environmentOptions = options.environment
        environmentOptions.readOnly = options.readOnly
        // A store that held events and has lost its data file is damage, not a new store.
        let head = LogHead.read(directory: path)
        if let head, head.position > 0 {
            // (A damaged data file is reported by the environment's own check.)
            if case .success(let dataFile) = Result(catching: { () throws(DataFile.Damage) in try DataFile.inspect(path + "/data.mdb") }),
               (dataFile?.bytes ?? 0) == 0 {
                throw LogError.damaged(store: path, problem: "its data file (data.mdb) is \(dataFile == nil ? "missing" : "empty"), but its log held \(head.position) events when last closed")
            }
        }
        let lock = options.readOnly ? nil : try WriterLock(
            directory: path, holder: WriterLock.describeThisProcess(options.writerDetail),
            wait: options.waitForWriter.map { .wait(notice: $0) } ?? .fail)
        let environment: Environment
        do {
            environment = try Environment(path: path, options: environmentOptions)
        } catch {
            lock?.release()
            throw error
        }
        do {
            let tables = Tables(
                events: try environment.table("events"),
                ids: try environment.table("ids"),
                streams: try environment.table("streams", options: [.duplicateKeys, .fixedSizeValues]),
                checkpoints: try environment.table("checkpoints"))
            self.environment = environment
            self.tables = tables
            if let head {
                try Self.check(head, against: environment, tables: tables, store: path)
            }
            if options.readOnly {
                self.writer = nil
            } else {
                let hook = try makeHook?(environment, LogReader(tables: tables))
                let tip = try environment.read { txn in try Self.readTip(txn, tables) }
                let observers = self.observers
                let flush = options.flush ?? { try $0.sync() }
                self.writer = Writer(
                    environment: environment, tables: tables, hook: hook, tip: tip, maxRecordsPerCommit: options.maxRecordsPerCommit,
                    sealer: sealer, flush: { try flush(environment) }, committedThrough: { observers.notify($0) })
            }
            self.writerLock = lock
        } catch {
            environment.close()
            lock?.release()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Whether the log was opened read-only.
    public var isReadOnly: Bool { writer == nil }

    /// Stops the writer (after the queued appends are done), records the log's head (see
    /// `LogHead`), closes the environment and lets go of the writer lock.
    public func close() {
        guard let writer else {
            environment.close()
            return
        }
        writer.stop()
        if let tip = try? environment.read({ txn in try Self.readTip(txn, tables) }) {
            LogHead(position: tip.position, hash: tip.hash).write(directory: environment.path)
        }
        environment.close()
        writerLock?.release()
    }

    /// The log must hold its recorded head: the same hash at the same position.
    private static func check(_ head: LogHead, against environment: Environment, tables: Tables, store: String) throws {
        guard head.position > 0 else { return }
        try environment.read { txn in
            let tip = try readTip(txn, tables)
            guard tip.position >= head.position else {
                throw LogError.damaged(store: store, problem: "its log ends at position \(tip.position), but it held \(head.position) events when last closed: \(head.position - tip.position) events were lost")
            }
            let found = try head.position.withBigEndianBytes { key in try txn.get(tables.events, key: key) }
            guard let found, let view = RecordFormat.view(position: head.position, bytes: found), ChainHash(bytes: view.hash) == head.hash else {
                throw LogError.damaged(store: store, problem: "the record at position \(head.position) is not the one its log held when last closed (another hash): the log was replaced or damaged")
            }
        }
    }

    /// The writer, or `LogError.readOnly` for a log opened read-only.
    private func writerForAppending() throws -> Writer {
        guard let writer else { throw LogError.readOnly(store: environment.path) }
        return writer
    }

    /// The last position and the chain's hash there, as `txn` sees the log.
    static func readTip(_ txn: some TransactionReading, _ tables: Tables) throws -> Writer.Tip {
        try txn.withCursor(tables.events) { cursor in
            guard let last = try cursor.last() else { return Writer.Tip(position: 0, hash: .genesis) }
            let position = UInt64(bigEndianBytes: last.key)
            guard let view = RecordFormat.view(position: position, bytes: last.value) else {
                throw LogError.corruptRecord(position: position)
            }
            return Writer.Tip(position: position, hash: ChainHash(bytes: view.hash))
        }
    }

    // MARK: Appending

    /// Appends `records` in order, in one durable transaction (possibly shared with other
    /// callers' records), and returns one outcome per record.
    public func append(_ records: [PendingRecord]) async throws -> [AppendOutcome] {
        try await append(PendingBatch(records))
    }

    /// Has every batch appended from now on rewritten by `sealer` first, unless the batch
    /// says it was sealed already: by the writer's sequencer, a group of requests at a time
    /// (one `makeDurable` for the group: a server's small requests share it).
    public func setSealer(_ sealer: (any BatchSealer)?) {
        self.sealer.set(sealer)
    }

    /// Seals `batch` now, on this thread (a bulk ingest's transcoding threads, several at
    /// once), so that the writer does not do it in order. What it depends on is made durable
    /// by the writer, before the commit that stores it.
    public func seal(_ batch: inout PendingBatch) throws {
        guard !batch.isSealed, let sealer = sealer.current else { return }
        let sealed = try sealer.seal(batch)
        if let rewritten = sealed.batch {
            let original = batch
            batch = rewritten
            sealer.recycle(original)
        }
        batch.isSealed = true
        batch.durabilityMark = sealed.durability
    }

    /// `append` for records packed in a batch.
    public func append(_ batch: PendingBatch) async throws -> [AppendOutcome] {
        let writer = try writerForAppending()
        return try await withCheckedThrowingContinuation { continuation in
            writer.submit(batch) { continuation.resume(with: $0) }
        }
    }

    /// The blocking form of `append`, for callers that are not async (the CLI's bulk ingest).
    public func appendAndWait(_ records: [PendingRecord]) throws -> [AppendOutcome] {
        let writer = try writerForAppending()
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        writer.submit(PendingBatch(records)) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// Queues `records` and calls `completion` on the writer thread after the commit. Lets a
    /// producer parse the next batch while this one is being written.
    public func submit(
        _ records: [PendingRecord], chain: AppendChain? = nil, completion: @escaping @Sendable (Result<[AppendOutcome], any Error>) -> Void
    ) {
        submit(PendingBatch(records), chain: chain, completion: completion)
    }

    /// `submit` for records packed in a batch (bulk ingest writes them straight into one).
    /// Requests of one `chain` are stored in order, and once one of them fails, none after it
    /// is stored: a bulk ingest's stored part is always a prefix of its input.
    public func submit(
        _ batch: PendingBatch, chain: AppendChain? = nil, completion: @escaping @Sendable (Result<[AppendOutcome], any Error>) -> Void
    ) {
        guard let writer else {
            completion(.failure(LogError.readOnly(store: environment.path)))
            return
        }
        writer.submit(batch, chain: chain, completion: completion)
    }

    /// Calls `observer` after every commit of this process's writer (on the writer's thread:
    /// keep it short — a live stream wakes its readers with it, metrics count it).
    public func observeCommits(_ observer: @escaping @Sendable (Commit) -> Void) {
        observers.add(observer)
    }

    /// How many write transactions have stored appends since the log was opened.
    public var commits: Int { writer?.commits ?? 0 }

    // MARK: Reading

    /// Why the writer stores nothing more (`LogError.notDurable`: a flush failed), or nil.
    /// Appends fail with it until the log is opened again.
    public var writeFault: LogError? { writer?.fault }

    /// The position of the last record, 0 for an empty log.
    public var lastPosition: UInt64 {
        get throws {
            try environment.read { txn in
                try txn.withCursor(tables.events) { cursor in
                    try cursor.last().map { UInt64(bigEndianBytes: $0.key) } ?? 0
                }
            }
        }
    }

    /// Calls `body` for every record from `start` through `end` (inclusive), in order. Reads
    /// in chunks of `chunkSize` records, each in its own short read transaction, so a long
    /// scan neither pins pages nor holds the whole log in memory. With `stream`, only the
    /// records whose stream it accepts are read further (see `LogReader.forEach`). Returns
    /// the last position scanned (or `start - 1` if none).
    @discardableResult
    public func forEach(
        from start: UInt64 = 1, through end: UInt64 = .max, chunkSize: Int = 16_384,
        stream wanted: (UnsafeRawBufferPointer) -> Bool = { _ in true }, _ body: (RecordView) throws -> Void
    ) throws -> UInt64 {
        var next = max(start, 1)
        var last = next - 1
        let span = UInt64(max(chunkSize, 1)) - 1
        while next <= end {
            // Positions are gapless: a chunk is a range of them.
            let chunkEnd = end - next > span ? next + span : end
            let scanned = try environment.read { txn in
                try reader.forEach(from: next, through: chunkEnd, in: txn, stream: wanted, body)
            }
            // Keep the scan's footprint flat: the pages just read need not stay mapped.
            environment.releaseMappedPages()
            guard let scanned else { break }
            last = scanned
            next = last + 1
        }
        return last
    }

    /// Up to `limit` records from position `start`, copied out of the map.
    public func records(from start: UInt64, limit: Int) throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        try forEach(from: start, through: start &+ UInt64(max(limit, 0)) &- 1, chunkSize: max(limit, 1)) { result.append($0.copy()) }
        return result
    }

    public func record(at position: UInt64) throws -> StoredRecord? {
        try environment.read { txn in
            try position.withBigEndianBytes { key in
                try txn.get(tables.events, key: key).map { bytes in
                    guard let view = RecordFormat.view(position: position, bytes: bytes) else {
                        throw LogError.corruptRecord(position: position)
                    }
                    return view.copy()
                }
            }
        }
    }

    /// The positions of a stream's records, in log order.
    public func positions(stream: String) throws -> [UInt64] {
        try environment.read { txn in try Self.positions(stream: stream, txn: txn, tables: tables) }
    }

    static func positions(stream: String, txn: some TransactionReading, tables: Tables) throws -> [UInt64] {
        try txn.withCursor(tables.streams) { cursor in
            try stream.withUTF8Bytes { key in
                guard let first = try cursor.seek(key) else { return [] }
                let count = try cursor.duplicateCount()
                // LMDB's GET_MULTIPLE returns nothing for a key with a single value.
                if count == 1 { return [UInt64(bigEndianBytes: first.value)] }
                var positions: [UInt64] = []
                positions.reserveCapacity(count)
                var block = try cursor.multiple()
                while let values = block {
                    for offset in stride(from: 0, to: values.count, by: 8) {
                        positions.append(UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: values[offset..<offset + 8])))
                    }
                    block = try cursor.nextMultiple()
                }
                return positions
            }
        }
    }

    /// Calls `body` with each record of `stream`, in log order, within one read transaction.
    public func forEach(stream: String, _ body: (RecordView) throws -> Void) throws {
        try environment.read { txn in try reader.forEach(stream: stream, in: txn, body) }
    }

    /// Reads inside a transaction the caller holds.
    public var reader: LogReader { LogReader(tables: tables) }

    /// A stream's records, copied out of the map.
    public func records(stream: String) throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        try forEach(stream: stream) { result.append($0.copy()) }
        return result
    }

    /// How many records a stream holds (its version for `expectedVersion`).
    public func version(ofStream stream: String) throws -> Int {
        try environment.read { txn in try Self.streamVersion(stream, txn: txn, tables: tables) }
    }

    static func streamVersion(_ stream: String, txn: some TransactionReading, tables: Tables) throws -> Int {
        try txn.withCursor(tables.streams) { cursor in
            try stream.withUTF8Bytes { key in
                try cursor.seek(key) == nil ? 0 : cursor.duplicateCount()
            }
        }
    }

    /// The position of the record with this id, if the log has it.
    public func position(ofID id: String) throws -> UInt64? {
        try environment.read { txn in
            try id.withUTF8Bytes { bytes in
                try IDKey.withKey(bytes) { key in
                    try txn.get(tables.ids, key: key).map { UInt64(bigEndianBytes: $0) }
                }
            }
        }
    }

    /// How many distinct streams the log has.
    public func streamCount() throws -> Int {
        try environment.read { txn in
            try txn.withCursor(tables.streams) { cursor in
                var count = 0
                var entry = try cursor.first()
                while entry != nil {
                    count += 1
                    entry = try cursor.nextKey()
                }
                return count
            }
        }
    }

    // MARK: Checkpoints

    /// The position a named consumer (a projection) has processed through; 0 if none.
    public func checkpoint(_ name: String) throws -> UInt64 {
        try environment.read { txn in try Self.checkpoint(name, in: txn, tables: tables) }
    }

    static func checkpoint(_ name: String, in txn: some TransactionReading, tables: Tables) throws -> UInt64 {
        try name.withUTF8Bytes { key in
            try txn.get(tables.checkpoints, key: key).map { UInt64(bigEndianBytes: $0) } ?? 0
        }
    }

    /// Sets a checkpoint in its own transaction.
    public func setCheckpoint(_ name: String, to position: UInt64) throws {
        try environment.write { txn in try setCheckpoint(name, to: position, in: txn) }
    }

    /// Records, inside a write transaction, that `name` has processed through `position`, so
    /// that the checkpoint commits atomically with the consumer's own writes.
    public func setCheckpoint(_ name: String, to position: UInt64, in txn: WriteTransaction) throws {
        try Self.setCheckpoint(name, to: position, in: txn, tables: tables)
    }

    static func setCheckpoint(_ name: String, to position: UInt64, in txn: WriteTransaction, tables: Tables) throws {
        try name.withUTF8Bytes { key in
            try position.withBigEndianBytes { value in
                try txn.put(tables.checkpoints, key: key, value: value)
            }
        }
    }

    /// Every named checkpoint with its position.
    public func checkpoints() throws -> [String: UInt64] {
        try environment.read { txn in
            Dictionary(try Self.checkpoints(in: txn, tables: tables), uniquingKeysWith: { $1 })
        }
    }

    static func checkpoints(in txn: some TransactionReading, tables: Tables) throws -> [(String, UInt64)] {
        try txn.withCursor(tables.checkpoints) { cursor in
            var result: [(String, UInt64)] = []
            var entry = try cursor.first()
            while let current = entry {
                result.append((String(decoding: current.key, as: UTF8.self), UInt64(bigEndianBytes: current.value)))
                entry = try cursor.next()
            }
            return result
        }
    }
}

/// Reads the log inside a transaction the caller already has — for append hooks, which run
/// in the writer's transaction and must see the records it has written so far.
public struct LogReader: Sendable {
    let tables: EventLog.Tables

    /// Calls `body` with each record of `stream` in log order, as `txn` sees them.
    public func forEach(stream: String, in txn: some TransactionReading, _ body: (RecordView) throws -> Void) throws {
        for position in try EventLog.positions(stream: stream, txn: txn, tables: tables) {
            guard let bytes = try position.withBigEndianBytes({ try txn.get(tables.events, key: $0) }),
                  let view = RecordFormat.view(position: position, bytes: bytes)
            else {
                throw LogError.corruptRecord(position: position)
            }
            try body(view)
        }
    }

    /// Calls `body` with each record from position `start` through `end`, as `txn` sees them.
    /// Hold `txn` briefly: a long read transaction pins pages (see `EventLog.forEach`).
    public func forEach(from start: UInt64, through end: UInt64, in txn: some TransactionReading, _ body: (RecordView) throws -> Void) throws {
        try forEach(from: start, through: end, in: txn, stream: { _ in true }, body)
    }

    /// `forEach(from:through:in:_:)` for the records whose stream `wanted` accepts, which it
    /// sees before the rest of the record is read. Returns the last position scanned,
    /// accepted or not (`nil`: none in the range).
    @discardableResult
    public func forEach(
        from start: UInt64, through end: UInt64, in txn: some TransactionReading,
        stream wanted: (UnsafeRawBufferPointer) -> Bool, _ body: (RecordView) throws -> Void
    ) throws -> UInt64? {
        var scanned: UInt64?
        try forEachStored(from: start, through: end, in: txn) { position, stream, stored in
            scanned = position
            if wanted(stream) { try body(Self.record(at: position, stored: stored)) }
        }
        return scanned
    }

    /// Calls `body` with each record's position, stream and stored bytes from `start` through
    /// `end`, as `txn` sees them, without reading the rest of the record: for sorting records
    /// out (by stream, say) to be read later, with `record(at:stored:)`, while `txn` is open.
    public func forEachStored(
        from start: UInt64, through end: UInt64, in txn: some TransactionReading,
        _ body: (_ position: UInt64, _ stream: UnsafeRawBufferPointer, _ stored: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try txn.withCursor(tables.events) { cursor in
            var entry = try start.withBigEndianBytes { try cursor.seek(atLeast: $0) }
            while let current = entry {
                let position = UInt64(bigEndianBytes: current.key)
                if position > end { break }
                guard let stream = RecordFormat.stream(in: current.value) else {
                    throw LogError.corruptRecord(position: position)
                }
                try body(position, stream, current.value)
                entry = try cursor.next()
            }
        }
    }

    /// The record whose stored bytes `forEachStored` handed over (valid while its
    /// transaction is open).
    public static func record(at position: UInt64, stored: UnsafeRawBufferPointer) throws -> RecordView {
        guard let view = RecordFormat.view(position: position, bytes: stored) else {
            throw LogError.corruptRecord(position: position)
        }
        return view
    }

    /// The last record of `stream`, as `txn` sees it.
    public func last(stream: String, in txn: some TransactionReading) throws -> StoredRecord? {
        // (The last position only: a visitor's stream of page views may hold thousands.)
        let last = try txn.withCursor(tables.streams) { cursor in
            try stream.withUTF8Bytes { key in
                try cursor.seek(key) == nil ? nil : try cursor.lastDuplicate().map { UInt64(bigEndianBytes: $0.value) }
            }
        }
        guard let position = last,
              let bytes = try position.withBigEndianBytes({ try txn.get(tables.events, key: $0) }),
              let view = RecordFormat.view(position: position, bytes: bytes)
        else { return nil }
        return view.copy()
    }
}

/// Errors of the log itself (the LMDB layer throws `LMDBError`).
public enum LogError: Error, CustomStringConvertible, Equatable {
    case corruptRecord(position: UInt64)
    case closed
    /// The writer prepared records from a position the log no longer ends before (something
    /// wrote to the log behind the writer's back).
    case outOfSequence(expected: UInt64, prepared: UInt64)
    /// The writer chained records onto a hash that is not the log's last (the same cause).
    case chainedOffTip(position: UInt64)
    /// Another process (or this one) holds the store's writer lock.
    case writerBusy(store: String, holder: String)
    /// An append to a log opened read-only.
    case readOnly(store: String)
    /// An earlier request of the same chain failed, so this one was not stored.
    case earlierRequestFailed(String)
    /// The store's files do not hold what its log held: events were lost.
    case damaged(store: String, problem: String)
    /// Flushing committed records to the disk failed (an I/O error or a full disk at write-back):
    /// they may not survive a crash, so the writer stores nothing more until the log is opened
    /// again.
    case notDurable(String)

    public var description: String {
        switch self {
        case .corruptRecord(let position): return "the record at position \(position) is corrupt (its layout cannot be read)"
        case .closed: return "the event log is closed"
        case .outOfSequence(let expected, let prepared):
            return "the writer prepared records from position \(prepared), but the log's next position is \(expected); nothing of this batch was stored"
        case .chainedOffTip(let position):
            return "the writer chained the records from position \(position) onto a hash the log does not end with; nothing of this batch was stored"
        case .writerBusy(let store, let holder):
            return "the store at \(store) is being written by \(holder); one writer at a time (without --no-wait, a write command waits its turn)"
        case .readOnly(let store):
            return "the store at \(store) is open for reading only"
        case .earlierRequestFailed(let cause):
            return "not stored: an earlier batch of the same input failed (\(cause))"
        case .damaged(let store, let problem):
            return "the store at \(store) is damaged: \(problem)"
        case .notDurable(let cause):
            return "the disk did not confirm the last writes (\(cause)): they may be lost in a crash; this writer stores nothing more until the store is opened again"
        }
    }
}

final class ResultBox: @unchecked Sendable {
    var result: Result<[AppendOutcome], any Error>?
}

/// The log's commit observers.
final class CommitObservers: Sendable {
    private let observers = Mutex<[@Sendable (Commit) -> Void]>([])

    func add(_ observer: @escaping @Sendable (Commit) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func notify(_ commit: Commit) {
        for observer in observers.withLock({ $0 }) { observer(commit) }
    }
}
