internal import CLMDB

/// A key and value under a cursor. Both point into the memory map: valid until the
/// transaction ends or the next write in it.
public struct CursorEntry {
    public let key: UnsafeRawBufferPointer
    public let value: UnsafeRawBufferPointer
}

/// A position in a table, scoped to `withCursor { }`. Reaching the end of the table, or a
/// missing key, is `nil` rather than an error.
public struct Cursor {
    let cursor: OpaquePointer
    let table: Table

    @inline(__always)
    private func get(_ op: MDB_cursor_op, key: UnsafeRawBufferPointer? = nil, value: UnsafeRawBufferPointer? = nil) throws(LMDBError) -> CursorEntry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val(mv_size: value?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: value?.baseAddress))
        let rc = mdb_cursor_get(cursor, &k, &v, op)
        guard rc == MDB_SUCCESS else {
            if rc == MDB_NOTFOUND { return nil }
            throw failure(rc)
        }
        return CursorEntry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }

    /// (Out of line: the error's message is made only when there is one.)
    @inline(never)
    private func failure(_ rc: Int32) -> LMDBError {
        LMDBError(returnCode: rc, call: "mdb_cursor_get \(table.name)")
    }

    public func first() throws(LMDBError) -> CursorEntry? { try get(MDB_FIRST) }
    public func last() throws(LMDBError) -> CursorEntry? { try get(MDB_LAST) }
    public func next() throws(LMDBError) -> CursorEntry? { try get(MDB_NEXT) }
    public func previous() throws(LMDBError) -> CursorEntry? { try get(MDB_PREV) }
    public func current() throws(LMDBError) -> CursorEntry? { try get(MDB_GET_CURRENT) }

    /// Moves to exactly `key` (its first value in a duplicate-key table).
    public func seek(_ key: UnsafeRawBufferPointer) throws(LMDBError) -> CursorEntry? {
        // (No stored key is empty or longer than LMDB's limit; see `TransactionReading.get`.)
        guard KeyOrder.isStorable(key) else { return nil }
        return try get(MDB_SET_KEY, key: key)
    }
    /// Moves to the first key at or after `key`.
    public func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> CursorEntry? { try get(MDB_SET_RANGE, key: key) }
    /// Moves to the exact pair (duplicate-key tables).
    public func seek(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws(LMDBError) -> CursorEntry? {
        try get(MDB_GET_BOTH, key: key, value: value)
    }

    /// Next value of the current key (duplicate-key tables), `nil` after its last.
    public func nextDuplicate() throws(LMDBError) -> CursorEntry? { try get(MDB_NEXT_DUP) }
    /// Last value of the current key (duplicate-key tables).
    public func lastDuplicate() throws(LMDBError) -> CursorEntry? { try get(MDB_LAST_DUP) }
    /// First value of the next key (duplicate-key tables).
    public func nextKey() throws(LMDBError) -> CursorEntry? { try get(MDB_NEXT_NODUP) }

    /// How many values the current key has (duplicate-key tables).
    public func duplicateCount() throws(LMDBError) -> Int {
        var count = 0
        try check(mdb_cursor_count(cursor, &count), "mdb_cursor_count \(table.name)")
        return count
    }

    /// For fixed-size duplicate tables: up to a page of the current key's values from the
    /// cursor position, packed (`MDB_GET_MULTIPLE`), then the next batch on each call of
    /// `nextMultiple()`. LMDB returns an empty buffer when the key has a single value: read
    /// that one with `current()` (check `duplicateCount()` first).
    public func multiple() throws(LMDBError) -> UnsafeRawBufferPointer? { try get(MDB_GET_MULTIPLE)?.value }
    public func nextMultiple() throws(LMDBError) -> UnsafeRawBufferPointer? { try get(MDB_NEXT_MULTIPLE)?.value }

    /// Writes through the cursor (write transactions only).
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: WriteTransaction.PutOptions = []) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_cursor_put(cursor, &k, &v, options.rawValue), "mdb_cursor_put \(table.name)")
    }
}
