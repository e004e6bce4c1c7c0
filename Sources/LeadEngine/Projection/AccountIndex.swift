import LMDB

/// The `accounts` table: one empty row per lead of an account, keyed account ‖ 0 ‖ lead, so
/// an account's leads are one range of keys (in lead id order) and no scan of the log or of
/// every lead. Kept by `LeadRows` from each lead's `account` (see `AccountRule`).
enum AccountIndex {
    /// The account's leads, in id order.
    static func leads(of account: String, in table: Table, txn: some TransactionReading) throws -> [String] {
        let prefix = Array(account.utf8) + [0]
        return try txn.withCursor(table) { cursor in
            var leads: [String] = []
            var entry = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let current = entry, current.key.count > prefix.count, current.key.starts(with: prefix) {
                leads.append(String(decoding: UnsafeRawBufferPointer(rebasing: current.key[prefix.count...]), as: UTF8.self))
                entry = try cursor.next()
            }
            return leads
        }
    }

    /// Every account with its leads, in account order (for account-wide reports).
    static func forEachAccount(in table: Table, txn: some TransactionReading, _ body: (String, [String]) throws -> Void) throws {
        try txn.withCursor(table) { cursor in
            var entry = try cursor.first()
            var current: (account: String, leads: [String])?
            while let row = entry {
                guard let separator = row.key.firstIndex(of: 0) else { throw AccountError.damagedIndex }
                let account = String(decoding: UnsafeRawBufferPointer(rebasing: row.key[..<separator]), as: UTF8.self)
                let lead = String(decoding: UnsafeRawBufferPointer(rebasing: row.key[(separator + 1)...]), as: UTF8.self)
                if current?.account != account {
                    if let done = current { try body(done.account, done.leads) }
                    current = (account, [])
                }
                current?.leads.append(lead)
                entry = try cursor.next()
            }
            if let done = current { try body(done.account, done.leads) }
        }
    }
}
