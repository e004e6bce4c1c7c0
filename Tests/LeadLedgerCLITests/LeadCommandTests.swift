import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger lead show, lead history and audit")
struct LeadCommandTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A store with a small CRM history ingested through the CLI.
    static func crmStore(_ dir: TemporaryDirectory) throws -> String {
        let events = [
            Events.captured("L-1", at: "2026-03-01T10:00:00Z", extra: ["title": "VP Marketing", "channel": "webinar"]),
            Events.touch("L-1", id: "t-early", at: "2026-02-20T10:00:00Z"),
            Events.event(.leadQualified, "L-1", id: "q-1", at: "2026-03-05T10:00:00Z", actor: "mops-alice", ["by": "manual"]),
            Events.event(.leadHandedOff, "L-1", id: "h-1", at: "2026-03-06T10:00:00Z", actor: "mops-alice", ["to": "ae-carla", "from": "marketing"]),
            Events.event(.salesAccepted, "L-1", id: "a-1", at: "2026-03-07T10:00:00Z", actor: "ae-carla"),
            Events.captured("L-2", at: "2026-03-02T10:00:00Z"),
            Events.event(.leadQualified, "L-2", id: "q-2", at: "2026-03-03T10:00:00Z", actor: "mops-bruno"),
            Events.event(.leadHandedOff, "L-2", id: "h-2", at: "2026-03-04T10:00:00Z", actor: "mops-bruno", ["to": "ae-dmitri"]),
            Events.event(.salesRejected, "L-2", id: "r-2", at: "2026-03-05T10:00:00Z", actor: "ae-dmitri", ["reason": "wrong_size", "recycle": true]),
        ]
        let input = try dir.write("crm.jsonl", events.map(Events.line).joined(separator: "\n"))
        let store = dir.file("store")
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", store])
        #expect(result.status == 0, "\(result.stderr)")
        return store
    }

    func json(_ result: LeadLedgerBinary.Result) throws -> JSONValue {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func leadShowGivesStageOwnerProfileAndStages() throws {
        let dir = TemporaryDirectory("lead")
        let store = try Self.crmStore(dir)
        let shown = try json(LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--format", "json"]))
        #expect(shown["lead"] == "L-1")
        #expect(shown["stage"] == "sal")
        #expect(shown["owner"] == "ae-carla")
        #expect(shown["score"] == .null)
        #expect(shown["profile"]?["title"] == "VP Marketing")
        let stages = try #require(shown["stages"]?.arrayValue)
        #expect(stages.map { $0["stage"] } == ["lead", "mql", "sal"])
        #expect(stages[2] == ["stage": "sal", "at": "2026-03-07T10:00:00Z", "type": "sales.accepted", "actor": "ae-carla", "position": 5])

        let table = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store])
        #expect(table.stdout.contains("owner     ae-carla"))
    }

    @Test func leadShowAsOfATimeGivesTheStateThen() throws {
        let dir = TemporaryDirectory("lead")
        let store = try Self.crmStore(dir)
        let then = try json(LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--as-of", "2026-03-06T09:59:59Z", "--format", "json"]))
        #expect(then["stage"] == "mql")
        #expect(then["owner"] == .null)
        let handedOff = try json(LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--as-of", "2026-03-06T10:00:00Z", "--format", "json"]))
        #expect(handedOff["owner"] == "ae-carla")
        let before = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--as-of", "2026-01-01"])
        #expect(before.status == 1)
        #expect(before.stderr.contains("did not exist yet"))
    }

    @Test func anUnknownLeadIsAClearErrorWithExitCodeOne() throws {
        let dir = TemporaryDirectory("lead")
        let store = try Self.crmStore(dir)
        for arguments in [["lead", "show", "L-404"], ["lead", "history", "L-404"], ["audit", "--lead", "L-404"]] {
            let result = try LeadLedgerBinary.run(arguments + ["--store", store])
            #expect(result.status == 1)
            #expect(result.stderr.contains("unknown lead L-404"))
        }
        let badTime = try LeadLedgerBinary.run(["lead", "show", "L-1", "--as-of", "last tuesday", "--store", store])
        #expect(badTime.status != 0)
        #expect(badTime.stderr.contains("--as-of last tuesday is not a time"))
    }

    @Test func historyAndAuditListEventsWithPositionsAndActors() throws {
        let dir = TemporaryDirectory("lead")
        let store = try Self.crmStore(dir)
        let history = try json(LeadLedgerBinary.run(["lead", "history", "L-2", "--store", store, "--format", "json"]))
        let rows = try #require(history["rows"]?.arrayValue)
        #expect(rows.map { $0["type"] } == ["lead.captured", "lead.qualified", "lead.handed_off", "sales.rejected"])
        #expect(rows.map { $0["position"] } == [6, 7, 8, 9])
        #expect(rows[3]["actor"] == "ae-dmitri")
        #expect(rows[3]["data"]?["reason"] == "wrong_size")

        let handoffs = try json(LeadLedgerBinary.run(["audit", "--type", "lead.handed_off", "--store", store, "--format", "json"]))
        #expect(handoffs["rows"]?.arrayValue?.map { [$0["lead"], $0["actor"], $0["data"]?["to"]] } == [["L-1", "mops-alice", "ae-carla"], ["L-2", "mops-bruno", "ae-dmitri"]])
        let combined = try json(LeadLedgerBinary.run(["audit", "--actor", "mops-alice", "--type", "lead.", "--since", "2026-03-06", "--store", store, "--format", "json"]))
        #expect(combined["rows"]?.arrayValue?.map { $0["id"] } == ["h-1"])

        let csv = try LeadLedgerBinary.run(["audit", "--type", "sales.", "--store", store, "--format", "csv"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "position,at,recordedAt,type,lead,actor,id,data")
        #expect(lines.count == 3)
    }

    @Test func refusedLinesNameTheLineLeadStageAndEvent() throws {
        let dir = TemporaryDirectory("lead")
        let store = try Self.crmStore(dir)
        let more = [
            Events.event(.dealClosed, "L-1", id: "d-1", at: "2026-03-09T10:00:00Z", actor: "ae-carla", ["opportunity": "OPP-1", "outcome": "won", "amount": 1000]),
            Events.event(.salesQualified, "L-1", id: "s-1", at: "2026-03-09T10:00:00Z", actor: "ae-carla"),
        ]
        let input = try dir.write("more.jsonl", more.map(Events.line).joined(separator: "\n"))
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(result.status == 2)
        let reject = try JSONParser.parse(String(contentsOfFile: input + ".rejects.jsonl", encoding: .utf8).trimmingCharacters(in: .newlines))
        #expect(reject["line"] == 1)
        let reason = try #require(reject["reason"]?.stringValue)
        #expect(reason.contains("deal.closed \"d-1\""))
        #expect(reason.contains("lead L-1 in stage sal"))
        #expect(try json(LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--format", "json"]))["stage"] == "sql")
    }

    @Test func whatTheEngineEmitsMatchesTheSchemas() throws {
        let dir = TemporaryDirectory("schema")
        var lines: [String] = []
        Generator(leads: 40, seed: 21).generate { lines.append(Events.line($0)) }
        let input = try dir.write("generated.jsonl", lines.joined(separator: "\n"))
        let store = dir.file("store")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        let history = try LeadLedgerBinary.run(["lead", "history", "L-000003", "--store", store, "--format", "json"])
        let audit = try LeadLedgerBinary.run(["audit", "--type", "lead.handed_off", "--store", store, "--format", "json"])
        let historyFile = try dir.write("history.json", history.stdout)
        let auditFile = try dir.write("audit.json", audit.stdout)

        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        checker.arguments = ["python3", "\(Self.repository)/tools/check-schemas.py", "--events", input, "--stored", historyFile, "--stored", auditFile]
        let output = Pipe()
        checker.standardOutput = output
        checker.standardError = output
        try checker.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        checker.waitUntilExit()
        #expect(checker.terminationStatus == 0, "\(text)")
        #expect(text.contains(" 0 failed"))
    }
}
