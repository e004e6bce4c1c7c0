import EventLog
import LeadDomain
import LMDB

/// The leads a group (or replay chunk) changed, encoded for storing: each lead's key, state
/// and journey as ranges of one buffer.
struct LeadRows: Sendable {
    struct Row {
        var lead: Range<Int>
        var state: Range<Int>
        var journey: Range<Int>?
        /// A lead merged into another keeps no journey (reports count its survivor's).
        var dropsJourney = false
    }

    /// Written by the thread that encodes the rows, then only read (after a hand-over).
    let bytes: EncodedBytes
    var rows: [Row]
    /// The `accounts` index keys (account ‖ 0 ‖ lead) to delete and to add, of the leads whose
    /// account changed since their row was last encoded; each list in key order, sorted by
    /// the thread that encodes (not the log's committer, which writes them).
    var unlisted: [Range<Int>] = []
    var listed: [Range<Int>] = []

    /// Encodes the changed leads among `touched` for group `sequence`: they are marked
    /// unchanged and as last stored by it. `dimensionIDs` (a replay shard's settled draft)
    /// replaces provisional dimension ids first. Without `listsAccounts` (a rebuild, which
    /// fills the `accounts` index at its end) no index keys are encoded.
    static func encode(_ touched: [CachedLead], dimensionIDs: [UInt32]? = nil, listsAccounts: Bool = true, committing sequence: UInt64) -> LeadRows {
        var encoded = LeadRows(bytes: EncodedBytes(capacity: 512 * touched.count), rows: [])
        encoded.rows.reserveCapacity(touched.count)
        for cached in touched where cached.changed {
            cached.changed = false
            cached.sequence = sequence
            if let dimensionIDs, !dimensionIDs.isEmpty {
                cached.journey?.mapDimensions { DimensionDraft.resolve($0, with: dimensionIDs) }
            }
            let lead = cached.state.lead.withUTF8Bytes { encoded.bytes.append($0) }
            let state = LeadStateCodec.encode(cached.state, profile: cached.encodedProfile, into: encoded.bytes)
            let journey = cached.journey.map { JourneyCodec.encode($0, into: encoded.bytes) }
            encoded.rows.append(Row(lead: lead, state: state, journey: journey, dropsJourney: cached.state.mergedInto != nil))
            guard listsAccounts else { continue }
            // (A lead merged away is its survivor's: the account lists only the survivor.)
            let account = cached.state.mergedInto == nil ? cached.state.account : nil
            if account != cached.indexedAccount {
                if let old = cached.indexedAccount { encoded.unlisted.append(indexKey(old, lead: cached.state.lead, into: encoded.bytes)) }
                if let account { encoded.listed.append(indexKey(account, lead: cached.state.lead, into: encoded.bytes)) }
                cached.indexedAccount = account
            }
        }
        let bytes = encoded.bytes
        let inOrder: (Range<Int>, Range<Int>) -> Bool = { KeyOrder.compare(bytes[$0], bytes[$1]) < 0 }
        encoded.unlisted.sort(by: inOrder)
        encoded.listed.sort(by: inOrder)
        return encoded
    }

    /// An `accounts` key (account ‖ 0 ‖ lead, see `AccountIndex`), appended to `bytes` piece
    /// by piece.
    private static func indexKey(_ account: String, lead: String, into bytes: EncodedBytes) -> Range<Int> {
        let start = account.withUTF8Bytes { bytes.append($0) }.lowerBound
        _ = withUnsafeBytes(of: UInt8(0)) { bytes.append($0) }
        return start..<lead.withUTF8Bytes { bytes.append($0) }.upperBound
    }

    /// Stores encoded leads (every row of every part), in key order, which LMDB inserts
    /// fastest: through cursors kept for all the rows, most keys land on the page the cursor
    /// is already on, and LMDB then skips the descent from the root. Rows encoded without
    /// `listsAccounts` leave the `accounts` index alone (see `encode`).
    static func write(_ parts: [LeadRows], leads: Table, journeys: Table, accounts: Table, in txn: WriteTransaction) throws {
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
                    if row.dropsJourney { _ = try txn.delete(journeys, key: key) }
                }
            }
        }
        try writeIndex(parts, accounts: accounts, in: txn)
    }

    /// The `accounts` index's changes, in key order too (a new lead's key is far from the
    /// last one's in account order): the keys unlisted, then the keys listed.
    private static func writeIndex(_ parts: [LeadRows], accounts: Table, in txn: WriteTransaction) throws {
        // (One part, an append group's, is in order already; a replay's shards' parts are merged.)
        func keys(_ list: (LeadRows) -> [Range<Int>]) -> [UnsafeRawBufferPointer] {
            let keys = parts.flatMap { part in list(part).map { part.bytes[$0] } }
            return parts.count > 1 ? keys.sorted { KeyOrder.compare($0, $1) < 0 } : keys
        }
        for key in keys(\.unlisted) { _ = try txn.delete(accounts, key: key) }
        let listed = keys(\.listed)
        guard !listed.isEmpty else { return }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        try txn.withCursor(accounts) { cursor in
            for key in listed { try cursor.put(key: key, value: empty) }
        }
    }
}
