import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger rules, rescore and score explain")
struct ScoringCommandTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let specRules = "\(repository)/Schemas/examples/rules/valid/spec-example.yaml"

    func json(_ result: LeadLedgerBinary.Result) throws -> JSONValue {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func ingestedStore(_ dir: TemporaryDirectory, leads: Int = 150) throws -> String {
        var lines: [String] = []
        Generator(leads: leads, seed: 77).generate { lines.append(Events.line($0)) }
        let input = try dir.write("events.jsonl", lines.joined(separator: "\n"))
        let store = dir.file("store")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        return store
    }

    @Test func publishShowAndExplain() throws {
        let dir = TemporaryDirectory("rules")
        let store = try ingestedStore(dir)
        let published = try LeadLedgerBinary.run(["rules", "publish", Self.specRules, "--store", store])
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains("published rules 2026-11-a"))
        // The same document again is recognised (a publish that was interrupted completes).
        let again = try LeadLedgerBinary.run(["rules", "publish", Self.specRules, "--store", store])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already published"))
        // Another document under the same version is refused.
        let changed = dir.file("changed.yaml")
        try String(contentsOfFile: Self.specRules, encoding: .utf8)
            .replacingOccurrences(of: "mql_threshold: 60", with: "mql_threshold: 61")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let conflicting = try LeadLedgerBinary.run(["rules", "publish", changed, "--store", store])
        #expect(conflicting.status == 1)
        #expect(conflicting.stderr.contains("already published with another document"))

        let shown = try json(LeadLedgerBinary.run(["rules", "show", "--store", store, "--format", "json"]))
        #expect(shown["version"] == "2026-11-a")
        #expect(shown["document"]?["mql_threshold"] == 60)

        let explained = try json(LeadLedgerBinary.run(["score", "explain", "L-000004", "--as-of", "2026-05-01", "--store", store, "--format", "json"]))
        #expect(explained["lead"] == "L-000004")
        #expect(explained["rulesVersion"] == "2026-11-a")
        let hits = try #require(explained["hits"]?.arrayValue)
        let sum = hits.reduce(0.0) { $0 + ($1["points"]?.doubleValue ?? 0) }
        let score = try #require(explained["score"]?.doubleValue)
        #expect(abs(sum - score) < 1e-9)
        #expect(abs((explained["fit"]?.doubleValue ?? 0) + (explained["engagement"]?.doubleValue ?? 0) - score) < 1e-9)
        for hit in hits where hit["at"] != .null {
            #expect(hit["position"]?.doubleValue != nil)
        }
        let shownLead = try json(LeadLedgerBinary.run(["lead", "show", "L-000004", "--store", store, "--format", "json"]))
        #expect(shownLead["score"]?.doubleValue != nil)
    }

    @Test func aBadRulesFileIsRefusedNamingTheRuleAndField() throws {
        let dir = TemporaryDirectory("rules")
        let store = try ingestedStore(dir, leads: 5)
        let bad = try dir.write("bad.yaml", """
            version: "x"
            mql_threshold: 60
            behavior:
              - event: touch.webinar_attended
                points: 15
                cap: { count: 0, per_days: 30 }
            """)
        let result = try LeadLedgerBinary.run(["rules", "publish", bad, "--store", store])
        #expect(result.status == 1)
        #expect(result.stderr.contains("rule behavior[0], field \"cap.count\""))
        #expect(result.stderr.contains("bad.yaml"))
        let broken = try dir.write("broken.yaml", "version: [unclosed\n")
        let yaml = try LeadLedgerBinary.run(["rescore", "--rules", broken, "--store", store])
        #expect(yaml.status == 1)
        #expect(yaml.stderr.contains("not valid YAML"))
    }

    @Test func rescoreReportsTheDifferenceIdenticallyTwiceThenApplies() throws {
        let dir = TemporaryDirectory("rescore")
        let store = try ingestedStore(dir)
        let arguments = ["rescore", "--rules", Self.specRules, "--store", store, "--format", "json"]
        let first = try LeadLedgerBinary.run(arguments)
        let second = try LeadLedgerBinary.run(arguments)
        #expect(first.stdout == second.stdout)
        let report = try json(first)
        #expect(report["rulesVersion"] == "2026-11-a")
        #expect(report["baseVersion"] == .null)
        #expect(report["newlyQualified"]?.arrayValue != nil)
        #expect(report["noLongerQualified"]?.arrayValue != nil)
        let moved = try #require(report["moved"]?.arrayValue)
        for move in moved {
            #expect(move["lead"]?.stringValue != nil && move["from"]?.stringValue != nil && move["to"]?.stringValue != nil)
        }
        let table = try LeadLedgerBinary.run(["rescore", "--rules", Self.specRules, "--store", store])
        #expect(table.stdout.contains("would newly qualify"))
        #expect(table.stdout.contains("under 2026-11-a"))

        let applied = try LeadLedgerBinary.run(["rescore", "--rules", Self.specRules, "--store", store, "--apply"])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("applied rules 2026-11-a"))
        let rules = try json(LeadLedgerBinary.run(["rules", "show", "--store", store, "--format", "json"]))
        #expect(rules["version"] == "2026-11-a")
        #expect(try LeadLedgerBinary.run(["verify", "--store", store]).status == 0)
    }
}
