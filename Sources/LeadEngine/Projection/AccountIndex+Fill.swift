import EventLog
import LeadDomain
import LMDB

extension AccountIndex {
    /// How many leads `fill` reads between calls of its `releasing`.
    static let releaseEvery = 65_536

    /// Lists every lead of `leads` in the empty `accounts` table, from the stored states, in
    /// key order with `MDB_APPEND`: what a rebuild does once at its end instead of inserting
    /// each new lead's key among the others chunk after chunk (the same rows; each page is
    /// written once, full). The table is read in lead order, so a stable counting sort by
    /// account gives key order: only the accounts are compared, not every key.
    ///
    /// `releasing` is called every `releaseEvery` leads read: the scan reads the whole table
    /// through the map, and without it all of it stays resident in the process.
    static func fill(_ accounts: Table, from leads: Table, in txn: WriteTransaction, releasing: () -> Void = {}) throws {
        var numbers = AccountNumbers()
        // Each listed lead: its account's number and its id's end in `ids`.
        var listed: [(account: Int, end: Int)] = []
        var ids: [UInt8] = []
        try txn.withCursor(leads) { cursor in
            var entry = try cursor.first()
            var read = 0
            while let row = entry {
                if let account = try LeadStateCodec.listedAccount(row.value) {
                    ids.append(contentsOf: row.key)
                    listed.append((numbers.number(of: account), ids.count))
                }
                read += 1
                if read % releaseEvery == 0 { releasing() }
                entry = try cursor.next()
            }
        }
        // Where each account's leads start in key order (its rank's running count).
        let rank = numbers.ranks()
        var next = [Int](repeating: 0, count: rank.count + 1)
        for lead in listed { next[rank[lead.account] + 1] += 1 }
        for index in 1..<next.count { next[index] += next[index - 1] }
        var order = [Int](repeating: 0, count: listed.count)
        for (index, lead) in listed.enumerated() {
            order[next[rank[lead.account]]] = index
            next[rank[lead.account]] += 1
        }
        var key: [UInt8] = []
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        try ids.withUnsafeBytes { ids in
            try txn.withCursor(accounts) { cursor in
                for index in order {
                    key.removeAll(keepingCapacity: true)
                    numbers.withAccount(listed[index].account) { key.append(contentsOf: $0) }
                    key.append(0)
                    key.append(contentsOf: UnsafeRawBufferPointer(rebasing: ids[(index == 0 ? 0 : listed[index - 1].end)..<listed[index].end]))
                    try key.withUnsafeBytes { try cursor.put(key: $0, value: empty, options: .append) }
                }
            }
        }
    }
}

/// Accounts numbered in the order first met, found by their bytes (open addressing on
/// `ByteHash`, as `LeadTable`, without an object per account or lead).
private struct AccountNumbers {
    private var bytes: [UInt8] = []
    /// Each account's end in `bytes`, by number.
    private var ends: [Int] = []
    private var hashes: [UInt64] = []
    /// Number + 1 of the account in each slot; 0 for none.
    private var slots = [Int](repeating: 0, count: 256)

    private func range(_ number: Int) -> Range<Int> {
        (number == 0 ? 0 : ends[number - 1])..<ends[number]
    }

    func withAccount<R>(_ number: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range(number)])) }
    }

    mutating func number(of account: UnsafeRawBufferPointer) -> Int {
        let hash = ByteHash.of(account)
        var slot = home(hash)
        while slots[slot] != 0 {
            let number = slots[slot] - 1
            if hashes[number] == hash && withAccount(number, { KeyOrder.compare($0, account) == 0 }) { return number }
            slot = (slot + 1) & (slots.count - 1)
        }
        let number = ends.count
        bytes.append(contentsOf: account)
        ends.append(bytes.count)
        hashes.append(hash)
        slots[slot] = number + 1
        if 2 * ends.count > slots.count { grow() }
        return number
    }

    private func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slots.count.trailingZeroBitCount))
    }

    private mutating func grow() {
        slots = [Int](repeating: 0, count: 2 * slots.count)
        for number in 0..<ends.count {
            var slot = home(hashes[number])
            while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = number + 1
        }
    }

    /// Each account's place in key order, by number.
    func ranks() -> [Int] {
        let sorted = bytes.withUnsafeBytes { bytes in
            (0..<ends.count).sorted { a, b in
                KeyOrder.compare(UnsafeRawBufferPointer(rebasing: bytes[range(a)]), UnsafeRawBufferPointer(rebasing: bytes[range(b)])) < 0
            }
        }
        var rank = [Int](repeating: 0, count: ends.count)
        for (place, number) in sorted.enumerated() { rank[number] = place }
        return rank
    }
}
