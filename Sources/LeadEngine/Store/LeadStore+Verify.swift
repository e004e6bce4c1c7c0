import EventLog
import Foundation
import LeadDomain
import LMDB

/// An `accounts` row whose key is not an account, a zero byte and a lead.
private struct AccountKeyError: Error, CustomStringConvertible {
    var description: String { "the key is not an account, a zero byte and a lead" }
}

/// A projection that does not hold what the log says it should.
public struct ProjectionProblem: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    /// The row's key (a lead id, a dimension id), when the problem is one row's.
    public var key: String?
    public var problem: String

    public var description: String {
        "table \(table)\(key.map { ", row \($0)" } ?? ""): \(problem)"
    }
}

extension LeadStore {
    /// Checks the projections: they are caught up with the log under the rules in force, and
    /// every row of `leads` and `journeys` decodes. With `deep`, the projections are also
    /// compared, row by row, with a fresh replay of the log (in a compacted copy of the store
    /// in `scratch`, removed after). Returns the problems found, at most one per table.
    public func verifyProjections(deep: Bool = false, scratch: String? = nil, progress: ((String) -> Void)? = nil) throws -> [ProjectionProblem] {
        var problems: [ProjectionProblem] = []
        let last = try log.lastPosition
        let tables = projectionTables
        let checkpoint = try log.checkpoint(tables.checkpoint)
        if checkpoint < last {
            problems.append(ProjectionProblem(table: "leads", problem: "the projections stop at position \(checkpoint) of \(last): run leadledger rebuild"))
        }
        if try currentRules()?.version != scoresVersion() {
            problems.append(ProjectionProblem(table: "leads", problem: "the scores are not under the rules in force: run leadledger rebuild"))
        }
        progress?("decoding the lead rows")
        // (Leads in an account, to check the accounts index against: a lead merged away is in
        // none.)
        var inAccounts = 0
        if let problem = try firstUndecodable(leads, decode: { key, value in
            let state = try LeadStateCodec.decode(value, lead: key)
            if state.account != nil, state.mergedInto == nil { inAccounts += 1 }
        }) {
            problems.append(problem)
        } else {
            progress?("checking the accounts index")
            var indexed = 0
            // (A store written before accounts has no index until it is rebuilt; `rebuild`
            // is what the checkpoint asks for then.)
            if let accounts = try? log.environment.table(tables.accounts), let problem = try firstUndecodable(accounts, decode: { key, _ in
                guard let separator = key.utf8.firstIndex(of: 0), separator != key.utf8.startIndex,
                      key.utf8.index(after: separator) != key.utf8.endIndex else {
                    throw AccountKeyError()
                }
                indexed += 1
            }) {
                problems.append(problem)
            } else if indexed != inAccounts {
                problems.append(ProjectionProblem(
                    table: "accounts", problem: "the index lists \(indexed) leads of accounts, the leads table has \(inAccounts): run leadledger rebuild"))
            }
        }
        progress?("decoding the journeys")
        let journeys = try log.environment.table(tables.journeys)
        if let problem = try firstUndecodable(journeys, decode: { _, value in _ = try JourneyCodec.decode(value) }) {
            problems.append(problem)
        }
        guard deep else { return problems }

        let directory = (scratch ?? NSTemporaryDirectory()) + "/leadledger-verify-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        progress?("copying the log")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try log.environment.copy(to: directory, compact: true)
        progress?("replaying the log from position 1")
        let fresh = try LeadStore(path: directory)
        defer { fresh.close() }
        try fresh.rebuildProjections()
        let theirs = fresh.projectionTables
        for (name, other) in [(tables.leads, theirs.leads), (tables.journeys, theirs.journeys), (tables.dimensions, theirs.dimensions), (tables.accounts, theirs.accounts)] {
            progress?("comparing \(ProjectionTables.baseName(name)) with the replay")
            if let problem = try firstDifference(in: name, and: other, from: fresh) { problems.append(problem) }
        }
        return problems
    }

    /// The first row of `table` that `decode` refuses, read in chunks of short transactions.
    private func firstUndecodable(_ table: Table, decode: (String, UnsafeRawBufferPointer) throws -> Void) throws -> ProjectionProblem? {
        var after: [UInt8]?
        while true {
            let (problem, last): (ProjectionProblem?, [UInt8]?) = try log.environment.read { txn in
                try txn.withCursor(table) { cursor in
                    var entry = try after.map { key in try key.withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    if let current = entry, let after, current.key.elementsEqual(after) { entry = try cursor.next() }
                    var count = 0
                    var last: [UInt8]?
                    while let current = entry, count < 8_192 {
                        let key = String(decoding: current.key, as: UTF8.self)
                        do {
                            try decode(key, current.value)
                        } catch {
                            return (ProjectionProblem(table: ProjectionTables.baseName(table.name), key: key, problem: "cannot be decoded (\(error)): run leadledger rebuild"), nil)
                        }
                        last = Array(current.key)
                        count += 1
                        entry = try cursor.next()
                    }
                    return (nil, last)
                }
            }
            log.environment.releaseMappedPages()
            if let problem { return problem }
            guard let last else { return nil }
            after = last
        }
    }

    /// The first row in which `name` differs between this store and `other`, walking both
    /// in key order in chunks.
    private func firstDifference(in name: String, and otherName: String, from other: LeadStore) throws -> ProjectionProblem? {
        let mine = try log.environment.table(name)
        let theirs = try other.log.environment.table(otherName)
        func chunk(_ store: LeadStore, _ table: Table, after: [UInt8]?) throws -> [([UInt8], [UInt8])] {
            try store.log.environment.read { txn in
                try txn.withCursor(table) { cursor in
                    var rows: [([UInt8], [UInt8])] = []
                    var entry = try after.map { key in try key.withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    if let current = entry, let after, current.key.elementsEqual(after) { entry = try cursor.next() }
                    while let current = entry, rows.count < 4_096 {
                        rows.append((Array(current.key), Array(current.value)))
                        entry = try cursor.next()
                    }
                    return rows
                }
            }
        }
        func label(_ key: [UInt8]) -> String {
            key.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) ? String(decoding: key, as: UTF8.self) : key.map { String(format: "%02x", $0) }.joined()
        }
        var after: [UInt8]?
        while true {
            let left = try chunk(self, mine, after: after)
            let right = try chunk(other, theirs, after: after)
            for (a, b) in zip(left, right) where a != b {
                if a.0 != b.0 {
                    let first = a.0.withUnsafeBytes { x in b.0.withUnsafeBytes { y in KeyOrder.compare(x, y) } } < 0 ? a.0 : b.0
                    let side = first == a.0 ? "is stored but a replay does not make it" : "is missing (a replay makes it)"
                    return ProjectionProblem(table: ProjectionTables.baseName(name), key: label(first), problem: "\(side): run leadledger rebuild")
                }
                return ProjectionProblem(table: ProjectionTables.baseName(name), key: label(a.0), problem: "differs from what a replay of the log makes: run leadledger rebuild")
            }
            if left.count != right.count {
                let extra = left.count > right.count ? left[right.count].0 : right[left.count].0
                let side = left.count > right.count ? "is stored but a replay does not make it" : "is missing (a replay makes it)"
                return ProjectionProblem(table: ProjectionTables.baseName(name), key: label(extra), problem: "\(side): run leadledger rebuild")
            }
            guard let last = left.last else { return nil }
            after = last.0
        }
    }
}
