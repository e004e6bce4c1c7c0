internal import CLMDB
import Foundation

/// The raw-LMDB baseline: the same records, the same key layout (big-endian position keys
/// with MDB_APPEND, an id table, a duplicate-sorted per-lead table appended in order) and the
/// same batch size as the engine, written straight against the C API with nothing else —
/// no parsing, validation, hashing or projections. What the engine is compared with.
final class RawBaseline {
    /// How records are written: through one cursor per table kept for the whole transaction
    /// (as the engine writes), or one `mdb_put` per record (each a descent from the root).
    enum Writes {
        case cursors
        case puts
    }

    private let writes: Writes
    private var env: OpaquePointer?
    private var events: MDB_dbi = 0
    private var ids: MDB_dbi = 0
    private var streams: MDB_dbi = 0

    struct Failure: Error, CustomStringConvertible {
        let call: String
        let rc: Int32
        var description: String { "baseline \(call): \(String(cString: mdb_strerror(rc)))" }
    }

    init(path: String, writes: Writes) throws {
        self.writes = writes
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try check(mdb_env_create(&env), "mdb_env_create")
        try check(mdb_env_set_maxdbs(env, 8), "mdb_env_set_maxdbs")
        try check(mdb_env_set_mapsize(env, 1 << 36), "mdb_env_set_mapsize")
        try check(mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o644), "mdb_env_open")
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        try check(mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &events), "mdb_dbi_open")
        try check(mdb_dbi_open(txn, "ids", UInt32(MDB_CREATE), &ids), "mdb_dbi_open")
        try check(mdb_dbi_open(txn, "streams", UInt32(MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED), &streams), "mdb_dbi_open")
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
    }

    deinit {
        mdb_env_close(env)
    }

    private func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw Failure(call: call, rc: rc) }
    }

    /// One record as the engine stored it: its position, id, lead and stored value.
    struct Record {
        var position: UInt64
        var id: [UInt8]
        var stream: [UInt8]
        var value: [UInt8]
    }

    /// Writes one batch in one durable transaction; returns the seconds it took.
    func append(_ batch: [Record]) throws -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        var cursors: [OpaquePointer?] = [nil, nil, nil]
        func closeCursors() {
            for index in cursors.indices where cursors[index] != nil {
                mdb_cursor_close(cursors[index])
                cursors[index] = nil
            }
        }
        do {
            if writes == .cursors {
                for (index, dbi) in [events, ids, streams].enumerated() {
                    try check(mdb_cursor_open(txn, dbi, &cursors[index]), "mdb_cursor_open")
                }
            }
            func put(_ table: Int, _ dbi: MDB_dbi, _ key: inout MDB_val, _ value: inout MDB_val, _ flags: Int32, _ name: String) throws {
                if let cursor = cursors[table] {
                    try check(mdb_cursor_put(cursor, &key, &value, UInt32(flags)), "mdb_cursor_put \(name)")
                } else {
                    try check(mdb_put(txn, dbi, &key, &value, UInt32(flags)), "mdb_put \(name)")
                }
            }
            for record in batch {
                var key = record.position.bigEndian
                try withUnsafeMutableBytes(of: &key) { keyBytes in
                    var k = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                    try record.value.withUnsafeBytes { value in
                        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                        try put(0, events, &k, &v, MDB_APPEND, "events")
                    }
                    try record.id.withUnsafeBytes { id in
                        var idKey = MDB_val(mv_size: id.count, mv_data: UnsafeMutableRawPointer(mutating: id.baseAddress))
                        var position = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                        try put(1, ids, &idKey, &position, 0, "ids")
                    }
                    try record.stream.withUnsafeBytes { stream in
                        var streamKey = MDB_val(mv_size: stream.count, mv_data: UnsafeMutableRawPointer(mutating: stream.baseAddress))
                        var position = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                        try put(2, streams, &streamKey, &position, MDB_APPENDDUP, "streams")
                    }
                }
            }
            closeCursors()
            try check(mdb_txn_commit(txn), "mdb_txn_commit")
        } catch {
            closeCursors()
            mdb_txn_abort(txn)
            throw error
        }
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Reads every record with a cursor, in chunks of short read transactions like the
    /// engine's replay, touching every byte's length; returns (records, seconds).
    func scan(chunk: Int = 16_384) throws -> (Int, Double) {
        let started = DispatchTime.now().uptimeNanoseconds
        var count = 0
        var checksum = 0
        var next: UInt64 = 1
        while true {
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin")
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn, events, &cursor), "mdb_cursor_open")
            var seen = 0
            var key = next.bigEndian
            var k = withUnsafeMutableBytes(of: &key) { MDB_val(mv_size: 8, mv_data: $0.baseAddress) }
            var v = MDB_val()
            var rc = withUnsafeMutableBytes(of: &key) { bytes -> Int32 in
                k = MDB_val(mv_size: 8, mv_data: bytes.baseAddress)
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
            while rc == 0 && seen < chunk {
                checksum &+= v.mv_size &+ Int(v.mv_data.load(fromByteOffset: v.mv_size - 1, as: UInt8.self))
                seen += 1
                next = UInt64(bigEndian: k.mv_data.loadUnaligned(as: UInt64.self)) + 1
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            mdb_cursor_close(cursor)
            mdb_txn_abort(txn)
            count += seen
            if seen < chunk { break }
        }
        if checksum == 42 { print("") }  // keep the reads
        return (count, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }
}
