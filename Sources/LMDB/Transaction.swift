internal import CLMDB

/// A named table (an LMDB "database") of an environment.
public struct Table: Sendable, Hashable {
    public struct Options: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Several sorted values per key (`MDB_DUPSORT`).
        public static let duplicateKeys = Options(rawValue: MDB_DUPSORT)
        /// With `duplicateKeys`: every value has the same size (`MDB_DUPFIXED`), which allows
        /// reading many values per call.
        public static let fixedSizeValues = Options(rawValue: MDB_DUPFIXED)
        /// Keys are native-endian unsigned integers (`MDB_INTEGERKEY`).
        public static let integerKeys = Options(rawValue: MDB_INTEGERKEY)
    }

    let dbi: MDB_dbi
    public let name: String
    public let options: Options
}

/// How many entries a table holds, and how deep its tree is.
public struct TableStatistics: Sendable, Hashable {
    public let entries: Int
    public let depth: Int
    public let pages: Int
}

/// Operations shared by read and write transactions. Buffers returned by `get` and by
/// cursors point into the memory map: they are valid until the transaction ends or the next
/// write in it, and must be copied to outlive that.
public protocol TransactionReading {
    /// The transaction this value stands for; opaque outside this module.
    var handle: TransactionHandle { get }
}

/// An LMDB transaction pointer that code outside this module can hold but not use.
public struct TransactionHandle {
    let txn: OpaquePointer
}

extension TransactionReading {
    /// The value stored under `key`, or `nil` when there is none.
    public func get(_ table: Table, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        // No key is stored empty or longer than LMDB's limit: asking for one finds nothing
        // (LMDB would answer MDB_BAD_VALSIZE, an error a lookup by a user's id must not be).
        guard KeyOrder.isStorable(key) else { return nil }
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(handle.txn, table.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get \(table.name)")
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// The value stored under `key`, copied out of the map.
    public func get(_ table: Table, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { key in
            try get(table, key: key).map { Array($0) }
        }
    }

    public func statistics(_ table: Table) throws(LMDBError) -> TableStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle.txn, table.dbi, &stat), "mdb_stat \(table.name)")
        return TableStatistics(
            entries: stat.ms_entries, depth: Int(stat.ms_depth),
            pages: stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages)
    }

    /// Runs `body` with a cursor on `table`; the cursor is closed when `body` returns.
    public func withCursor<R>(_ table: Table, _ body: (Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle.txn, table.dbi, &cursor), "mdb_cursor_open \(table.name)")
        guard let cursor else { throw LMDBError(code: .invalid, call: "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(cursor: cursor, table: table))
    }
}

public struct ReadTransaction: TransactionReading {
    public let handle: TransactionHandle
    init(txn: OpaquePointer) { self.handle = TransactionHandle(txn: txn) }
}

/// Records the first failure of a write, because after a failed put LMDB only allows the
/// transaction to be aborted.
final class FailureBox {
    var value: LMDBError?
}

public struct WriteTransaction: TransactionReading {
    public let handle: TransactionHandle
    let failure = FailureBox()

    init(txn: OpaquePointer) { self.handle = TransactionHandle(txn: txn) }
    var txn: OpaquePointer { handle.txn }

    public struct PutOptions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The key must sort after every key in the table (`MDB_APPEND`): fast sequential load.
        public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
        /// For duplicate-key tables: the value sorts after the key's other values.
        public static let appendDuplicate = PutOptions(rawValue: UInt32(MDB_APPENDDUP))
        /// Fail with `keyExists` instead of overwriting.
        public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
        /// For duplicate-key tables: fail with `keyExists` if this exact pair exists.
        public static let noDuplicateData = PutOptions(rawValue: UInt32(MDB_NODUPDATA))
    }

    func record(_ rc: Int32, _ call: @autoclosure () -> String) throws(LMDBError) {
        guard rc != MDB_SUCCESS else { return }
        let error = LMDBError(returnCode: rc, call: call())
        if failure.value == nil, rc != MDB_KEYEXIST, rc != MDB_NOTFOUND { failure.value = error }
        throw error
    }

    public func put(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: PutOptions = []) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try record(mdb_put(txn, table.dbi, &k, &v, options.rawValue), "mdb_put \(table.name)")
    }

    public func put(_ table: Table, key: [UInt8], value: [UInt8], options: PutOptions = []) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                try put(table, key: k, value: v, options: options)
            }
        }
    }

    /// Inserts unless the key (or, in a duplicate-key table, the pair) exists; returns
    /// whether it inserted.
    @discardableResult
    public func insert(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        let flag = table.options.contains(.duplicateKeys) ? PutOptions.noDuplicateData : .noOverwrite
        do {
            try put(table, key: key, value: value, options: flag)
            return true
        } catch where error.code == .keyExists {
            return false
        }
    }

    /// Inserts `key` → `value` unless the key exists; then returns the existing value instead
    /// (one descent of the tree either way, `MDB_NOOVERWRITE`). Not for duplicate-key tables.
    public func insertOrFetch(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(txn, table.dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
        if rc == MDB_KEYEXIST { return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size) }
        try record(rc, "mdb_put \(table.name)")
        return nil
    }

    /// Reserves `size` bytes under `key` and lets `fill` write the value in place, in the map,
    /// without an intermediate copy (`MDB_RESERVE`). Not for duplicate-key tables.
    public func reserve(_ table: Table, key: UnsafeRawBufferPointer, size: Int, options: PutOptions = [], fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try record(mdb_put(txn, table.dbi, &k, &v, options.rawValue | UInt32(MDB_RESERVE)), "mdb_put(reserve) \(table.name)")
        try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    /// Deletes `key` (or only the pair `key`/`value` in a duplicate-key table); returns
    /// whether anything was deleted.
    @discardableResult
    public func delete(_ table: Table, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc: Int32
        if let value {
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            rc = mdb_del(txn, table.dbi, &k, &v)
        } else {
            rc = mdb_del(txn, table.dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try record(rc, "mdb_del \(table.name)")
        return true
    }

    /// Removes every entry of `table`, keeping the table.
    public func clear(_ table: Table) throws(LMDBError) {
        try record(mdb_drop(txn, table.dbi, 0), "mdb_drop \(table.name)")
    }
}
