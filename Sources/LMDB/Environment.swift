internal import CLMDB
import Foundation
import Synchronization

/// An LMDB environment: one directory holding a memory map of named tables.
///
/// - Opened with `MDB_NOTLS`, so read transactions are not tied to threads.
/// - A process may open a given directory once at a time (LMDB forbids more); a second
///   `Environment(path:)` for the same directory throws `LMDBError.Code.alreadyOpen`.
/// - The map starts at `Options.mapSize` and doubles when a write transaction hits
///   `MDB_MAP_FULL`: the transaction is aborted, the map grown with no transaction active in
///   this process, and the write body run again.
/// - Every transaction is closure-scoped (`read { }`, `write { }`) and synchronous: it
///   begins and ends on the calling thread and never crosses an `await`.
/// - A durable environment is opened with `MDB_NOMETASYNC` and `write` flushes the meta page
///   itself after the commit, unless asked to leave that to a later `sync()` (see
///   `write(deferringMetaSync:_:)`).
public final class Environment: @unchecked Sendable {
    public struct Options: Sendable {
        /// Initial map size in bytes. LMDB's own default is 1 MiB; ours is 1 GiB, which costs
        /// only address space (the file grows with the data).
        public var mapSize: Int = 1 << 30
        /// Upper bound for automatic growth.
        public var maxMapSize: Int = 1 << 40
        public var maxTables: Int = 32
        public var maxReaders: Int = 126
        /// `false` skips the fsync at commit (`MDB_NOSYNC`): only for throwaway stores.
        public var durable: Bool = true
        /// Opens an existing environment for reading only (`MDB_RDONLY`): nothing is created,
        /// and an environment on read-only media is read without LMDB's lock file.
        public var readOnly: Bool = false

        public init() {}
    }

    public let path: String
    let env: OpaquePointer
    /// Held shared by every transaction, exclusively while the map is resized, so that
    /// `mdb_env_set_mapsize` never runs with a transaction active in this process.
    private let resizeLock = ReadWriteLock()
    private let state: Mutex<State>
    private let options: Options

    private struct State {
        var isOpen = true
        var tables: [String: Table] = [:]
    }

    private static let openPaths = Mutex<Set<String>>([])
    static let releaseInterval = 8
    private let releaseCalls = Mutex<Int>(0)
    private let mapping = Mutex(Mapping())

    /// Where the map is, as `mapAddress` last found it: it moves only when this process maps
    /// the file again (`mdb_env_set_mapsize`, each call counted in `remaps`).
    private struct Mapping {
        var remaps = 0
        var address: UInt?
        var addressRemaps = -1
    }

    public init(path: String, options: Options = Options()) throws(LMDBError) {
        if options.readOnly {
            guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw LMDBError(code: .notFound, call: "open \(path)") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw LMDBError(code: .system(EACCES), call: "mkdir \(path)")
            }
        }
        // A data file shorter than its meta pages say is a SIGBUS once mapped: refuse it first.
        do {
            _ = try DataFile.inspect(path + "/data.mdb")
        } catch {
            throw LMDBError(code: .damaged(error.description), call: "open \(path)")
        }
        if !options.readOnly {
            try Self.allocateLockFile(path + "/lock.mdb")
        }
        let canonical = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        let claimed = Environment.openPaths.withLock { $0.insert(canonical).inserted }
        guard claimed else { throw LMDBError(code: .alreadyOpen, call: "mdb_env_open \(canonical)") }

        var handle: OpaquePointer?
        do throws(LMDBError) {
            try check(mdb_env_create(&handle), "mdb_env_create")
            guard let handle else { throw LMDBError(code: .invalid, call: "mdb_env_create") }
            do throws(LMDBError) {
                try check(mdb_env_set_maxdbs(handle, MDB_dbi(options.maxTables)), "mdb_env_set_maxdbs")
                try check(mdb_env_set_maxreaders(handle, UInt32(options.maxReaders)), "mdb_env_set_maxreaders")
                try check(mdb_env_set_mapsize(handle, options.mapSize), "mdb_env_set_mapsize")
                var flags = UInt32(MDB_NOTLS)
                if !options.durable { flags |= UInt32(MDB_NOSYNC) }
                // (Ours to flush: see `write(deferringMetaSync:_:)`.)
                if options.durable && !options.readOnly { flags |= UInt32(MDB_NOMETASYNC) }
                if options.readOnly { flags |= UInt32(MDB_RDONLY) }
                var rc = mdb_env_open(handle, canonical, flags, 0o644)
                if rc == EROFS && options.readOnly {
                    // Read-only media: no lock file can be made there, and no writer can run
                    // there either, so the environment is read without one.
                    rc = mdb_env_open(handle, canonical, flags | UInt32(MDB_NOLOCK), 0o644)
                }
                try check(rc, "mdb_env_open \(canonical)")
                if !options.readOnly {
                    // Clear reader slots left behind by processes that died (e.g. SIGKILL).
                    var dead: Int32 = 0
                    try check(mdb_reader_check(handle, &dead), "mdb_reader_check")
                }
            } catch {
                mdb_env_close(handle)
                throw error
            }
            self.env = handle
        } catch {
            _ = Environment.openPaths.withLock { $0.remove(canonical) }
            throw error
        }
        self.path = canonical
        self.options = options
        self.state = Mutex(State())
    }

    deinit {
        close()
    }

    /// LMDB sizes its lock file with `ftruncate` and then writes it through a map: on a full
    /// disk the file has no blocks, and the first write is a SIGBUS. Its blocks are allocated
    /// here first, so a full disk is an error (ENOSPC) instead.
    private static func allocateLockFile(_ path: String) throws(LMDBError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }  // (LMDB's open reports it, with its cause.)
        defer { Glibc.close(descriptor) }
        // 126 readers take 8 KiB; twice that leaves room.
        let bytes = 16 << 10
        var info = stat()
        guard fstat(descriptor, &info) == 0, Int(info.st_size) < bytes else { return }
        let rc = posix_fallocate(descriptor, 0, off_t(bytes))
        if rc != 0 && rc != EOPNOTSUPP && rc != EINVAL {
            throw LMDBError(code: .system(rc), call: "allocate \(path)")
        }
    }

    /// Closes the environment. Every transaction must have ended.
    public func close() {
        let wasOpen = state.withLock { state -> Bool in
            defer { state.isOpen = false }
            return state.isOpen
        }
        guard wasOpen else { return }
        resizeLock.withWriteLock {
            mdb_env_close(env)
        }
        _ = Environment.openPaths.withLock { $0.remove(path) }
    }

    /// Whether the environment was opened read-only.
    public var isReadOnly: Bool { options.readOnly }

    /// The current size of the memory map in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// Drops this process's mapping of the map's pages (`madvise(MADV_DONTNEED)`), so that a
    /// long scan does not leave the whole file resident in this process. The pages stay in
    /// the OS page cache and are mapped again on their next access; the map is read-only
    /// (no `MDB_WRITEMAP`), so nothing is lost.
    ///
    /// Each call walks the page tables of the whole file, so calls are thinned out: only
    /// every `releaseInterval`-th one does the work (a scan calls it once per chunk), unless
    /// `now` (a step that reads a whole table at once). Safe inside a write transaction:
    /// its own pages are in memory, not in the map, and the map's pages come back unchanged.
    public func releaseMappedPages(now: Bool = false) {
        let due = now || releaseCalls.withLock { calls -> Bool in
            calls += 1
            return calls % Self.releaseInterval == 0
        }
        guard due else { return }
        resizeLock.withReadLock {
            var stat = MDB_stat()
            mdb_env_stat(env, &stat)
            var info = MDB_envinfo()
            mdb_env_info(env, &info)
            // Only the part the data file occupies.
            let used = min(info.me_mapsize, (info.me_last_pgno + 1) * Int(stat.ms_psize))
            guard let address = mapAddress() else { return }
            _ = madvise(address, used, MADV_DONTNEED)
        }
    }

    /// Where the data file is mapped. LMDB does not say (its `me_mapaddr` is only set for
    /// fixed maps), so it is read from /proc/self/maps: the read-only shared mapping of
    /// `data.mdb`; again only after the map has moved. (Reading and parsing the process's
    /// maps was 8 % of the instructions of a server's one-event requests sent one at a time,
    /// a commit each, which let the pages go every eighth commit.)
    private func mapAddress() -> UnsafeMutableRawPointer? {
        let (known, remaps) = mapping.withLock { ($0.addressRemaps == $0.remaps ? $0.address : nil, $0.remaps) }
        if let known { return UnsafeMutableRawPointer(bitPattern: known) }
        let found = readMapAddress()
        mapping.withLock { mapping in
            if mapping.remaps == remaps, let found {
                mapping.address = UInt(bitPattern: found)
                mapping.addressRemaps = remaps
            }
        }
        return found
    }

    private func readMapAddress() -> UnsafeMutableRawPointer? {
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        let dataFile = path + "/data.mdb"
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), maps) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasSuffix(dataFile + "\n") || text.hasSuffix(dataFile) else { continue }
            let fields = text.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].hasPrefix("r--s"),
                  let start = UInt(fields[0].split(separator: "-").first ?? "", radix: 16)
            else { continue }
            return UnsafeMutableRawPointer(bitPattern: start)
        }
        return nil
    }

    /// Writes a consistent copy of the environment into the existing, empty directory `path`
    /// (`mdb_env_copy2`) while writers go on; `compact` leaves free pages out (and so the
    /// contents of freed pages).
    ///
    /// The copy reads through one read transaction for its whole length: a writer in this
    /// process that must grow the map meanwhile waits for it to end. It reads every page
    /// through the map, so the map's pages are let go every 50 ms meanwhile:
    /// otherwise the whole file becomes resident in this process (a server's, too).
    public func copy(to path: String, compact: Bool) throws(LMDBError) {
        let releases = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        releases.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
        releases.setEventHandler { [weak self] in self?.releaseMappedPages(now: true) }
        releases.resume()
        defer { releases.cancel() }
        let rc = resizeLock.withReadLock {
            mdb_env_copy2(env, path, compact ? UInt32(MDB_CP_COMPACT) : 0)
        }
        guard rc == MDB_MAP_RESIZED else { return try check(rc, "mdb_env_copy2 \(path)") }
        // Another process grew the map (a server writing while the CLI copies): adopt its
        // size, with no transaction of ours active, and copy again. LMDB had created the
        // copy's file (exclusively) but written nothing into it.
        unlink(path + "/data.mdb")
        try resizeLock.withWriteLock { () throws(LMDBError) in
            let resized = mdb_env_set_mapsize(env, 0)
            mapping.withLock { $0.remaps += 1 }  // (even if it failed: the old map may be gone)
            try check(resized, "mdb_env_set_mapsize")
        }
        try resizeLock.withReadLock { () throws(LMDBError) in
            try check(mdb_env_copy2(env, path, compact ? UInt32(MDB_CP_COMPACT) : 0), "mdb_env_copy2 \(path)")
        }
    }

    /// Flushes the data file to disk: every commit before the call is durable once it returns
    /// (after writes with `durable == false`, or `write(deferringMetaSync: true)`). Safe on any
    /// thread, beside a write transaction.
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(env, 1), "mdb_env_sync")
    }

    // MARK: Tables

    /// Opens (and creates if needed) a named table. Tables are opened once and cached.
    public func table(_ name: String, options: Table.Options = []) throws -> Table {
        if let cached = state.withLock({ $0.tables[name] }) {
            return cached
        }
        let table: Table
        if self.options.readOnly {
            // Opened in a read transaction that commits, so the handle outlives it.
            table = try resizeLock.withReadLock { () throws -> Table in
                let txn = try beginTransaction(readOnly: true)
                var dbi: MDB_dbi = 0
                let rc = mdb_dbi_open(txn, name, UInt32(options.rawValue), &dbi)
                guard rc == MDB_SUCCESS else {
                    mdb_txn_abort(txn)
                    if rc == MDB_NOTFOUND { throw LMDBError(code: .damaged("\(path) has no table \(name)"), call: "mdb_dbi_open \(name)") }
                    throw LMDBError(returnCode: rc, call: "mdb_dbi_open \(name)")
                }
                try check(mdb_txn_commit(txn), "mdb_txn_commit")
                return Table(dbi: dbi, name: name, options: options)
            }
        } else {
            table = try write { txn -> Table in
                var dbi: MDB_dbi = 0
                try check(mdb_dbi_open(txn.txn, name, UInt32(options.rawValue) | UInt32(MDB_CREATE), &dbi), "mdb_dbi_open \(name)")
                return Table(dbi: dbi, name: name, options: options)
            }
        }
        state.withLock { $0.tables[name] = table }
        return table
    }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction, on this thread. Keep it short: a long-lived
    /// reader pins pages and makes the file grow.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try resizeLock.withReadLock {
            let txn = try beginTransaction(readOnly: true)
            defer { mdb_txn_abort(txn) }
            return try body(ReadTransaction(txn: txn))
        }
    }

    /// Runs `body` with `count` read-only transactions, begun one after the other, for work
    /// split across threads: each may be used on any thread (the environment is opened with
    /// `MDB_NOTLS`), one thread at a time, and the values read through any of them stay valid
    /// until `body` returns. They may see different snapshots if a write commits between their
    /// beginnings.
    public func read<R>(transactions count: Int, _ body: ([ReadTransaction]) throws -> R) throws -> R {
        try resizeLock.withReadLock {
            var txns: [OpaquePointer] = []
            txns.reserveCapacity(count)
            defer { for txn in txns { mdb_txn_abort(txn) } }
            for _ in 0..<count { txns.append(try beginTransaction(readOnly: true)) }
            return try body(txns.map(ReadTransaction.init(txn:)))
        }
    }

    /// Runs `body` in a write transaction and commits it, on this thread. A thrown error
    /// aborts the transaction. If the map is full, the transaction is aborted, the map grown
    /// and `body` run again from the start: it must not have effects outside the transaction
    /// that a second run would repeat.
    ///
    /// A durable commit flushes twice: the pages it wrote, then the meta page that makes them
    /// the database. With `deferringMetaSync`, `write` returns after the first: the commit is
    /// visible to readers and consistent on disk, but a crash of the machine (not only of the
    /// process) may undo it until `sync()` returns. A group-commit writer flushes the meta page
    /// on another thread while it writes the next transaction's pages, and answers the commit's
    /// callers after that. If the flush after a commit fails, the commit is visible but maybe
    /// not durable, and the error is thrown.
    public func write<R>(deferringMetaSync: Bool = false, _ body: (WriteTransaction) throws -> R) throws -> R {
        guard !options.readOnly else { throw LMDBError(code: .readOnly, call: "write \(path)") }
        while true {
            do {
                return try resizeLock.withReadLock {
                    let raw = try beginTransaction(readOnly: false)
                    let txn = WriteTransaction(txn: raw)
                    let result: R
                    do {
                        result = try body(txn)
                        if let failure = txn.failure.value { throw failure }
                    } catch {
                        mdb_txn_abort(raw)
                        // A failed put poisons the transaction even if the body caught it.
                        if let failure = txn.failure.value, failure.code == .mapFull {
                            throw failure
                        }
                        throw error
                    }
                    try check(mdb_txn_commit(raw), "mdb_txn_commit \(path)")
                    if options.durable && !deferringMetaSync {
                        try check(mdb_env_sync(env, 1), "mdb_env_sync \(path)")
                    }
                    return result
                }
            } catch let error as LMDBError where error.code == .mapFull {
                try grow()
            }
        }
    }

    private func beginTransaction(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        guard state.withLock({ $0.isOpen }) else { throw LMDBError(code: .closed, call: "mdb_txn_begin") }
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map: adopt its size (set_mapsize(0)) and retry. We
            // hold the shared lock; LMDB permits this call while no transaction of ours is
            // active, and a failed begin leaves none.
            let resized = mdb_env_set_mapsize(env, 0)
            mapping.withLock { $0.remaps += 1 }  // (even if it failed: the old map may be gone)
            try check(resized, "mdb_env_set_mapsize")
            rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        }
        try check(rc, "mdb_txn_begin")
        guard let txn else { throw LMDBError(code: .invalid, call: "mdb_txn_begin") }
        return txn
    }

    private func grow() throws(LMDBError) {
        try resizeLock.withWriteLock { () throws(LMDBError) in
            let current = mapSize
            guard current < options.maxMapSize else {
                throw LMDBError(code: .mapFull, call: "grow map beyond \(options.maxMapSize) bytes")
            }
            let next = min(current * 2, options.maxMapSize)
            let resized = mdb_env_set_mapsize(env, next)
            mapping.withLock { $0.remaps += 1 }  // (even if it failed: the old map may be gone)
            try check(resized, "mdb_env_set_mapsize")
        }
    }
}

/// A pthread read-write lock: shared by transactions, exclusive for map resizing.
final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func withReadLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withWriteLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
