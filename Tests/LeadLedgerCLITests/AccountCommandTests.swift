import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger account show and reports by account")
struct AccountCommandTests {
    typealias E = Events

    /// A store with account acme.com (two leads, one a customer) and beta.io, written through
    /// `ingest`.
    static func store(_ dir: TemporaryDirectory) throws -> String {
        let store = dir.file("store")
        let events = [
            E.captured("L-1", extra: ["email": "ann@acme.com", "channel": "web", "employees": 400]),
            E.captured("L-2", extra: ["email": "bob@gmail.com", "domain": "acme.com", "channel": "ads"]),
            E.captured("L-3", extra: ["email": "cy@beta.io", "channel": "web"]),
            E.captured("L-4", extra: ["email": "di@hotmail.com"]),
            E.touch("L-1", id: "t-1", at: "2026-03-05T10:00:00Z"),
            E.event(.leadQualified, "L-2", id: "q-2", at: "2026-03-06T10:00:00Z", ["by": "manual"]),
            E.event(.leadHandedOff, "L-2", id: "h-2", at: "2026-03-06T11:00:00Z", ["to": "sam"]),
            E.event(.salesAccepted, "L-2", id: "a-2", at: "2026-03-07T10:00:00Z"),
            E.event(.opportunityOpened, "L-2", id: "o-2", at: "2026-03-08T10:00:00Z", ["opportunity": "opp-2", "amount": 900]),
            E.event(.dealClosed, "L-2", id: "w-2", at: "2026-03-09T10:00:00Z", ["opportunity": "opp-2", "outcome": "won", "amount": 1200]),
        ]
        let input = dir.file("events.jsonl")
        try events.map(E.line).joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let ingested = try LeadLedgerBinary.run(["ingest", input, "--store", store])
        #expect(ingested.status == 0, "\(ingested.stderr)")
        return store
    }

    static func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func accountShowInEveryFormat() throws {
        let dir = TemporaryDirectory("account-cli")
        let store = try Self.store(dir)
        let shown = try LeadLedgerBinary.run(["account", "show", "acme.com", "--store", store, "--as-of", "2026-03-20"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.hasPrefix("account   acme.com"))
        #expect(shown.stdout.contains("leads     2, most advanced stage customer"))
        #expect(shown.stdout.contains("engaged   2 with a touch in the 90 days up to 2026-03-20T00:00:00Z"))
        #expect(shown.stdout.contains("won       1 opportunity, 1200"))

        let json = try Self.json(try LeadLedgerBinary.run(["account", "show", "acme.com", "--store", store, "--format", "json", "--as-of", "2026-03-20"]).stdout)
        #expect(json["account"] == "acme.com")
        #expect(json["leads"]?.arrayValue?.compactMap { $0["lead"]?.stringValue } == ["L-1", "L-2"])
        #expect(json["leads"]?.arrayValue?.compactMap { $0["assignedBy"]?.stringValue } == ["domain", "domain"])
        #expect(json["mostAdvancedStage"] == "customer")
        #expect(json["engagedLeads"] == 2)
        #expect(json["opportunities"] == ["open": 0, "openAmount": 0, "won": 1, "wonAmount": 1200])
        #expect(json["score"] == .null)  // no rules published

        let csv = try LeadLedgerBinary.run(["account", "show", "acme.com", "--store", store, "--format", "csv"])
        #expect(csv.stdout.hasPrefix("account,lead,stage,score,lastTouchAt,engaged,assignedBy"))

        let unknown = try LeadLedgerBinary.run(["account", "show", "nobody.example", "--store", store])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("account nobody.example is unknown"))
        let badTime = try LeadLedgerBinary.run(["account", "show", "acme.com", "--store", store, "--as-of", "soon"])
        #expect(badTime.status != 0)
        #expect(badTime.stderr.contains("--as-of"))

        // The lead shows its account.
        let lead = try Self.json(try LeadLedgerBinary.run(["lead", "show", "L-2", "--store", store, "--format", "json"]).stdout)
        #expect(lead["account"] == "acme.com")

        // The same after a rebuild.
        #expect(try LeadLedgerBinary.run(["rebuild", "--store", store]).status == 0)
        let rebuilt = try LeadLedgerBinary.run(["account", "show", "acme.com", "--store", store, "--format", "json", "--as-of", "2026-03-20"])
        #expect(try Self.json(rebuilt.stdout) == json)
    }

    @Test func reportsByAccountAndTheAccountFunnel() throws {
        let dir = TemporaryDirectory("account-reports-cli")
        let store = try Self.store(dir)
        func rows(_ arguments: [String]) throws -> [String: JSONValue] {
            let result = try LeadLedgerBinary.run(["report"] + arguments + ["--store", store, "--format", "json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let value = try Self.json(result.stdout)
            var byKey: [String: JSONValue] = [:]
            for row in value["rows"]?.arrayValue ?? [] { byKey[row["key"]?.stringValue ?? "?"] = row }
            return byKey
        }
        let funnel = try rows(["funnel", "--by", "account"])
        #expect(funnel["acme.com"]?["leads"] == 2)
        #expect(funnel["acme.com"]?["customers"] == 1)
        #expect(funnel["beta.io"]?["leads"] == 1)
        #expect(funnel["(none)"]?["leads"] == 1)
        let quality = try rows(["quality", "--by", "account"])
        #expect(quality["acme.com"]?["accepted"] == 1)
        let attribution = try rows(["attribution", "--model", "first-touch", "--by", "account"])
        #expect(attribution["acme.com"]?["revenue"] == 1200)
        let accounts = try LeadLedgerBinary.run(["report", "account-funnel", "--store", store, "--format", "json"])
        #expect(accounts.status == 0, "\(accounts.stderr)")
        let value = try Self.json(accounts.stdout)
        #expect(value["report"] == "account-funnel")
        #expect(value["totals"]?["leads"] == 2)
        #expect(value["totals"]?["customers"] == 1)
    }
}
