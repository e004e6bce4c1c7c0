import LeadDomain
import LMDB

/// Interns the strings journeys group by (channels, campaigns, sources, contents, owners) as
/// small ids, in the `dimensions` table: `0x01 ‖ value → id` and `0x02 ‖ id → value`. Ids are
/// assigned in log order, so a rebuild assigns the same ones. Used on the writer's thread.
final class Dimensions {
    static let tableName = "dimensions"
    let table: Table
    private var ids: [String: UInt32]?
    private var pending: [String] = []

    init(environment: Environment) throws {
        table = try environment.table(Self.tableName)
    }

    /// The id of `value` (0 for none), assigning the next one in `txn` if it is new.
    func intern(_ value: String?, in txn: WriteTransaction) throws -> UInt32 {
        guard let value, !value.isEmpty else { return 0 }
        if ids == nil { ids = try Self.load(table, in: txn).ids }
        if let id = ids![value] { return id }
        let id = UInt32(ids!.count + 1)
        ids![value] = id
        pending.append(value)
        let valueKey = [0x01] + Array(value.utf8)
        let idKey: [UInt8] = [0x02] + withUnsafeBytes(of: id.bigEndian, Array.init)
        try txn.put(table, key: valueKey, value: withUnsafeBytes(of: id.bigEndian, Array.init))
        try txn.put(table, key: idKey, value: Array(value.utf8))
        return id
    }

    /// After a commit the assigned ids are final.
    func didCommit() {
        pending.removeAll(keepingCapacity: true)
    }

    /// After an abort, ids assigned in it were never stored.
    func didAbort() {
        for value in pending { ids?[value] = nil }
        pending.removeAll(keepingCapacity: true)
    }

    /// After the table was cleared (a rebuild).
    func reset() {
        ids = [:]
        pending.removeAll()
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
