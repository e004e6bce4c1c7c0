import LeadDomain
import LMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Interns the strings journeys group by (channels, campaigns, sources, contents, owners) as
/// small ids, in the `dimensions` table: `0x01 ‖ value → id` and `0x02 ‖ id → value`. Ids are
/// assigned in log order, so a rebuild assigns the same ones. Used on the writer's thread (or
/// a replay's).
///
/// Lookups go by the value's bytes (FNV-1a hash, then a byte comparison), so a replay interns
/// straight from the stored event without making a `String`.
final class Dimensions {
    static let tableName = "dimensions"
    let table: Table
    private var loaded = false
    /// id → value bytes; index 0 is "none".
    private var names: [[UInt8]] = [[]]
    /// hash → the first id with that hash; further ids with the same hash in `collisions`.
    private var byHash: [UInt64: UInt32] = [:]
    private var collisions: [UInt64: [UInt32]] = [:]
    /// The first id assigned in the current transaction (forgotten if it aborts).
    private var firstPending: Int?

    init(environment: Environment) throws {
        table = try environment.table(Self.tableName)
    }

    func intern(_ value: String?, in txn: WriteTransaction) throws -> UInt32 {
        guard let value else { return 0 }
        return try value.withUTF8Bytes { try intern(bytes: $0, in: txn) }
    }

    /// The id of the value (0 for none or empty), assigning the next one in `txn` if it is new.
    func intern(bytes: UnsafeRawBufferPointer?, in txn: WriteTransaction) throws -> UInt32 {
        guard let bytes, !bytes.isEmpty else { return 0 }
        if !loaded { try load(in: txn) }
        let hash = Self.hash(bytes)
        if let id = byHash[hash] {
            if Self.equal(names[Int(id)], bytes) { return id }
            for other in collisions[hash] ?? [] where Self.equal(names[Int(other)], bytes) { return other }
        }
        let id = UInt32(names.count)
        names.append(Array(bytes))
        if byHash[hash] == nil { byHash[hash] = id } else { collisions[hash, default: []].append(id) }
        if firstPending == nil { firstPending = Int(id) }
        let idBytes = withUnsafeBytes(of: id.bigEndian, Array.init)
        try txn.put(table, key: [0x01] + Array(bytes), value: idBytes)
        try txn.put(table, key: [0x02] + idBytes, value: Array(bytes))
        return id
    }

    /// After a commit the assigned ids are final.
    func didCommit() {
        firstPending = nil
    }

    /// After an abort, ids assigned in it were never stored.
    func didAbort() {
        guard let first = firstPending else { return }
        while names.count > first {
            let value = names.removeLast()
            let id = UInt32(names.count)
            let hash = value.withUnsafeBytes { Self.hash($0) }
            if byHash[hash] == id {
                byHash[hash] = nil
            } else {
                collisions[hash]?.removeAll { $0 == id }
            }
        }
        firstPending = nil
    }

    /// After the table was cleared (a rebuild).
    func reset() {
        names = [[]]
        byHash.removeAll()
        collisions.removeAll()
        firstPending = nil
        loaded = true
    }

    private func load(in txn: some TransactionReading) throws {
        let all = try Self.load(table, in: txn).names
        names = [[]]
        byHash.removeAll()
        collisions.removeAll()
        for id in 1..<UInt32(all.count + 1) {
            let bytes = Array((all[id] ?? "").utf8)
            names.append(bytes)
            let hash = bytes.withUnsafeBytes { Self.hash($0) }
            if byHash[hash] == nil { byHash[hash] = id } else { collisions[hash, default: []].append(id) }
        }
        loaded = true
    }

    static func equal(_ stored: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        stored.count == bytes.count && stored.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// Every id and its value.
    static func load(_ table: Table, in txn: some TransactionReading) throws -> (ids: [String: UInt32], names: [UInt32: String]) {
        try txn.withCursor(table) { cursor in
            var ids: [String: UInt32] = [:]
            var names: [UInt32: String] = [:]
            var entry = try [UInt8(0x02)].withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let current = entry, current.key.first == 0x02, current.key.count == 5 {
                let id = UInt32(bigEndian: UnsafeRawBufferPointer(rebasing: current.key[1...]).loadUnaligned(as: UInt32.self))
                let name = String(decoding: current.value, as: UTF8.self)
                ids[name] = id
                names[id] = name
                entry = try cursor.next()
            }
            return (ids, names)
        }
    }
}
