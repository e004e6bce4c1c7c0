import EventLog
import LeadDomain
import LeadEngine
import LMDB
import Testing
import TestSupport

/// `verify` checks the projections too: a damaged row is found by decoding every row, and a
/// row that decodes but is wrong by comparing with a fresh replay (`--deep`).
@Suite("Verify: projection rows and a fresh replay")
struct VerifyProjectionsTests {
    func store() throws -> TestStore {
        let test = try TestStore("verify")
        _ = try test.append(generated(150, seed: 41))
        return test
    }

    func put(_ test: TestStore, table name: String, key: String, value: [UInt8]) throws {
        let environment = test.store.log.environment
        let table = try environment.table(name)
        try environment.write { txn in try txn.put(table, key: Array(key.utf8), value: value) }
    }

    func value(_ test: TestStore, table name: String, key: String) throws -> [UInt8]? {
        let environment = test.store.log.environment
        let table = try environment.table(name)
        return try environment.read { txn in try txn.get(table, key: Array(key.utf8)).map(Array.init) }
    }

    @Test func intactProjectionsPassEvenDeep() throws {
        let test = try store()
        #expect(try test.store.verifyProjections().isEmpty)
        #expect(try test.store.verifyProjections(deep: true, scratch: test.directory.file("scratch")).isEmpty)
    }

    @Test func aCorruptLeadRowIsFoundWithItsKey() throws {
        let test = try store()
        let lead = try #require(try test.store.forEachLeadID().first)
        try put(test, table: "leads", key: lead, value: [0xFF, 0x00, 0x13])
        let problems = try test.store.verifyProjections()
        #expect(problems.map(\.table) == ["leads"])
        #expect(problems.first?.key == lead)
    }

    @Test func anAccountsIndexThatLostOrGainedARowIsFound() throws {
        let test = try store()
        let environment = test.store.log.environment
        let accounts = try environment.table("accounts")
        let rows = try environment.read { txn in try txn.withCursor(accounts) { cursor in try cursor.first().map { Array($0.key) } } }
        let first = try #require(rows)
        try environment.write { txn in _ = try first.withUnsafeBytes { try txn.delete(accounts, key: $0) } }
        let problems = try test.store.verifyProjections()
        #expect(problems.map(\.table) == ["accounts"])
        #expect(problems.first?.problem.contains("run leadledger rebuild") == true)
        // A key that is not an account, a zero byte and a lead is named.
        try environment.write { txn in try txn.put(accounts, key: first, value: []) }
        try put(test, table: "accounts", key: "no-separator", value: [])
        #expect(try test.store.verifyProjections().first?.key == "no-separator")
    }

    @Test func aJourneyThatDecodesButIsWrongIsFoundByADeepVerify() throws {
        let test = try store()
        let leads = try test.store.forEachLeadID()
        // Two leads' journeys swapped: each decodes, neither is what the log says.
        let first = try #require(try value(test, table: "journeys", key: leads[0]))
        let second = try #require(try value(test, table: "journeys", key: leads[1]))
        #expect(first != second)
        try put(test, table: "journeys", key: leads[0], value: second)
        try put(test, table: "journeys", key: leads[1], value: first)
        #expect(try test.store.verifyProjections().isEmpty)
        let problems = try test.store.verifyProjections(deep: true, scratch: test.directory.file("scratch"))
        #expect(problems.map(\.table) == ["journeys"])
        #expect(problems.first?.key == leads[0])
    }
}

extension LeadStore {
    /// The projected leads' ids, in key order.
    func forEachLeadID() throws -> [String] {
        var ids: [String] = []
        try forEachLead(profile: false) { ids.append($0.lead) }
        return ids
    }
}
