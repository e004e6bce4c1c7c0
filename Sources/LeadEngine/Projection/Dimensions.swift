import EventLog
import LeadDomain
import LMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Interns the strings journeys group by (channels, campaigns, sources, contents, owners) as
/// small ids, in the `dimensions` table: `0x01 ‖ value → id` and `0x02 ‖ id → value`. Ids are
/// assigned in log order, so a rebuild assigns the same ones. Used on the writer's sequencer
/// thread (or a replay's).
///
/// Lookups go by the value's bytes (`ByteHash`, then a byte comparison), so a replay interns
/// straight from the stored event without making a `String`.
final class Dimensions {
    let table: Table
    @exclusivity(unchecked) private var loaded = false
    /// id → value bytes; index 0 is "none".
    @exclusivity(unchecked) private var names: [[UInt8]] = [[]]
    /// hash → the first id with that hash; further ids with the same hash in `collisions`.
    @exclusivity(unchecked) private var byHash: [UInt64: UInt32] = [:]
    @exclusivity(unchecked) private var collisions: [UInt64: [UInt32]] = [:]
    /// The first id assigned since the last `takeAssigned`.
    @exclusivity(unchecked) private var firstPending: Int?
    /// Recent lookups of the writer's thread.
    @exclusivity(unchecked) private var recent = RecentIDs()

    init(environment: Environment, tables: ProjectionTables) throws {
        table = try environment.table(tables.dimensions)
    }

    /// The id of the value (0 for none or empty), assigning the next one in memory if it is
    /// new (`takeAssigned` hands the new ones over for storing). `prepare` first.
    func intern(bytes: UnsafeRawBufferPointer?) throws -> UInt32 {
        guard let bytes, !bytes.isEmpty else { return 0 }
        let hash = Self.hash(bytes)
        if let id = recent.id(of: bytes, hash: hash) { return id }
        let id = try lookup(bytes, hash: hash) ?? assign(bytes, hash: hash)
        recent.remember(id, bytes: bytes, hash: hash)
        return id
    }

    /// Gives a new value the next id, in memory (`store` writes it).
    private func assign(_ bytes: UnsafeRawBufferPointer, hash: UInt64) throws -> UInt32 {
        let id = UInt32(names.count)
        guard id < DimensionDraft.provisional else { throw DimensionsFull() }
        names.append(Array(bytes))
        if byHash[hash] == nil { byHash[hash] = id } else { collisions[hash, default: []].append(id) }
        if firstPending == nil { firstPending = Int(id) }
        return id
    }

    /// The ids assigned since the last call, with their values, for the write transaction
    /// of an append group or a replay chunk; from now on they count as given (`unload`
    /// takes them back).
    func takeAssigned() -> [(id: UInt32, value: [UInt8])] {
        guard let first = firstPending else { return [] }
        firstPending = nil
        return (first..<names.count).map { (UInt32($0), names[$0]) }
    }

    /// Stores ids and their values (both directions).
    static func store(_ assigned: [(id: UInt32, value: [UInt8])], in table: Table, txn: WriteTransaction) throws {
        for (id, value) in assigned {
            let idBytes = withUnsafeBytes(of: id.bigEndian, Array.init)
            try txn.put(table, key: [0x01] + value, value: idBytes)
            try txn.put(table, key: [0x02] + idBytes, value: value)
        }
    }

    /// Forgets everything, to load the committed dictionary again when next prepared (after
    /// an append group failed, its ids were never stored).
    func unload() {
        recent = RecentIDs()
        names = [[]]
        byHash.removeAll()
        collisions.removeAll()
        firstPending = nil
        loaded = false
    }

    /// Loads the committed dictionary, so that `lookup` can run (from several threads).
    func prepare(in txn: some TransactionReading) throws {
        if !loaded { try load(in: txn) }
    }

    /// The committed id of a value, if it has one (`prepare` first). Read-only: shards of a
    /// parallel replay call it concurrently.
    func lookup(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        guard let id = byHash[hash] else { return nil }
        if names[Int(id)].hasSameBytes(as: bytes) { return id }
        return collisions[hash]?.first { names[Int($0)].hasSameBytes(as: bytes) }
    }

    /// Gives the values the drafts met their ids, in the order a sequential replay would have
    /// met them (by the position of their first event, then in the order that event interned
    /// them), in memory (`takeAssigned` hands them over for storing). Returns, per draft, the
    /// id of each provisional index.
    func settle(_ drafts: [DimensionDraft]) throws -> [[UInt32]] {
        var order: [(position: UInt64, draft: Int, index: Int)] = []
        for (number, draft) in drafts.enumerated() {
            for (index, position) in draft.firstSeen.enumerated() { order.append((position, number, index)) }
        }
        order.sort { ($0.position, $0.draft, $0.index) < ($1.position, $1.draft, $1.index) }
        var ids = drafts.map { Array(repeating: UInt32(0), count: $0.values.count) }
        for entry in order {
            ids[entry.draft][entry.index] = try drafts[entry.draft].values[entry.index].withUnsafeBytes { bytes in
                let hash = Self.hash(bytes)
                return try lookup(bytes, hash: hash) ?? assign(bytes, hash: hash)
            }
        }
        return ids
    }

    /// After the table was cleared (a rebuild): empty, and nothing to load.
    func reset() {
        unload()
        loaded = true
    }

    private func load(in txn: some TransactionReading) throws {
        let all = try Self.load(table, in: txn).names
        unload()
        for id in 1..<UInt32(all.count + 1) {
            let bytes = Array((all[id] ?? "").utf8)
            names.append(bytes)
            let hash = bytes.withUnsafeBytes { Self.hash($0) }
            if byHash[hash] == nil { byHash[hash] = id } else { collisions[hash, default: []].append(id) }
        }
        loaded = true
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ByteHash.of(bytes)
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

struct DimensionsFull: Error, CustomStringConvertible {
    var description: String { "more than \(DimensionDraft.provisional - 1) distinct channel, campaign, source, content and owner values" }
}

/// The dimension values one shard of a parallel replay meets that the committed dictionary
/// does not have yet. The shard cannot assign ids (the other shards would assign the same
/// ones, and the order must be the log's), so it gives them provisional ids
/// (`provisional | index`) and remembers where each first occurred; `Dimensions.settle`
/// then assigns the real ids in log order, and the shard's journeys are mapped to them
/// before they are stored.
final class DimensionDraft {
    /// The bit that marks a provisional id (real ids stay below it).
    static let provisional: UInt32 = 0x8000_0000
    private let committed: Dimensions
    @exclusivity(unchecked) private(set) var values: [[UInt8]] = []
    /// The position of the event that first met each value.
    @exclusivity(unchecked) private(set) var firstSeen: [UInt64] = []
    @exclusivity(unchecked) private var byHash: [UInt64: [Int]] = [:]
    private let recent = RecentIDs()

    init(committed: Dimensions) {
        self.committed = committed
    }

    func intern(_ bytes: UnsafeRawBufferPointer?, position: UInt64) -> UInt32 {
        guard let bytes, !bytes.isEmpty else { return 0 }
        let hash = Dimensions.hash(bytes)
        if let id = recent.id(of: bytes, hash: hash) { return id }
        let id: UInt32
        if let known = committed.lookup(bytes, hash: hash) {
            id = known
        } else if let index = byHash[hash]?.first(where: { values[$0].hasSameBytes(as: bytes) }) {
            id = Self.provisional | UInt32(index)
        } else {
            values.append(Array(bytes))
            firstSeen.append(position)
            byHash[hash, default: []].append(values.count - 1)
            id = Self.provisional | UInt32(values.count - 1)
        }
        recent.remember(id, bytes: bytes, hash: hash)
        return id
    }

    /// The real id of `id` given the ids `Dimensions.settle` assigned to this draft.
    static func resolve(_ id: UInt32, with ids: [UInt32]) -> UInt32 {
        id & provisional == 0 ? id : ids[Int(id & ~provisional)]
    }
}

/// Where a projection's dimension values are interned.
enum Interner {
    /// Appends: into the live dictionary (stored with the group that assigned them).
    case live(Dimensions)
    /// A shard of a parallel replay: into its draft, settled in log order afterwards.
    case draft(DimensionDraft)

    func intern(_ bytes: UnsafeRawBufferPointer?, position: UInt64) throws -> UInt32 {
        switch self {
        case .live(let dimensions): return try dimensions.intern(bytes: bytes)
        case .draft(let draft): return draft.intern(bytes, position: position)
        }
    }

    /// Runs `body` with an interning function that does not throw, for the journey builder:
    /// after an error it returns 0, and `withInterning` throws the first error once `body` ends.
    func withInterning<Result>(at position: UInt64, _ body: (_ intern: (UnsafeRawBufferPointer?) -> UInt32) -> Result) throws -> Result {
        var failure: (any Error)?
        let result = body { bytes in
            do {
                return try intern(bytes, position: position)
            } catch {
                if failure == nil { failure = error }
                return 0
            }
        }
        if let failure { throw failure }
        return result
    }
}

/// A replay shard's interning into its draft (never fails).
struct DraftInterning: DimensionInterning {
    let draft: DimensionDraft
    let position: UInt64

    mutating func intern(_ bytes: UnsafeRawBufferPointer?) -> UInt32 {
        draft.intern(bytes, position: position)
    }
}

/// A small direct-mapped cache of recently interned values: most touches repeat a few
/// hundred channels and campaigns, and this spares the dictionary lookups. Each entry keeps
/// the value's hash, id and bytes (values up to 48 bytes) in one raw buffer, so a hit costs
/// no reference counting.
final class RecentIDs {
    private static let entries = 1024
    private static let entrySize = 64
    private static let maxBytes = entrySize - 16
    private let storage: UnsafeMutableRawPointer

    init() {
        storage = .allocate(byteCount: Self.entries * Self.entrySize, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: Self.entries * Self.entrySize)
    }

    deinit {
        storage.deallocate()
    }

    private func entry(_ hash: UInt64) -> UnsafeMutableRawPointer {
        storage + (Int(truncatingIfNeeded: hash) & (Self.entries - 1)) * Self.entrySize
    }

    func id(of bytes: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let entry = entry(hash)
        guard entry.load(as: UInt64.self) == hash,
              Int(entry.load(fromByteOffset: 12, as: UInt32.self)) == bytes.count,
              bytes.count > 0, ByteHash.equal(entry + 16, bytes.baseAddress!, count: bytes.count)
        else { return nil }
        return entry.load(fromByteOffset: 8, as: UInt32.self)
    }

    func remember(_ id: UInt32, bytes: UnsafeRawBufferPointer, hash: UInt64) {
        guard bytes.count <= Self.maxBytes, let base = bytes.baseAddress else { return }
        let entry = entry(hash)
        entry.storeBytes(of: hash, as: UInt64.self)
        entry.storeBytes(of: id, toByteOffset: 8, as: UInt32.self)
        entry.storeBytes(of: UInt32(bytes.count), toByteOffset: 12, as: UInt32.self)
        (entry + 16).copyMemory(from: base, byteCount: bytes.count)
    }
}
