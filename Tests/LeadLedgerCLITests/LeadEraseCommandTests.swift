import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger lead erase")
struct LeadEraseCommandTests {
    static let email = "charles.babbage-5150@example.com"

    static let events = [
        Events.captured("L-1", at: "2026-03-01T10:00:00Z", extra: [
            "email": .string(email), "firstName": "Charles", "title": "VP Marketing", "channel": "webinar", "campaign": "Q1 Webinar",
        ]),
        Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z", campaign: "Nurture"),
        Events.event(.leadQualified, "L-1", id: "q-1", at: "2026-03-05T10:00:00Z", actor: "mops-alice", ["by": "manual"]),
        Events.event(.leadHandedOff, "L-1", id: "h-1", at: "2026-03-06T10:00:00Z", actor: "mops-alice", ["to": "ae-carla", "note": "Babbage-5150 prefers calls"]),
        Events.event(.salesAccepted, "L-1", id: "a-1", at: "2026-03-07T10:00:00Z", actor: "ae-carla"),
        Events.event(.opportunityOpened, "L-1", id: "o-1", at: "2026-03-08T10:00:00Z", actor: "ae-carla", ["opportunity": "OPP-1", "amount": 9000]),
        Events.event(.dealClosed, "L-1", id: "d-1", at: "2026-03-20T10:00:00Z", actor: "ae-carla", ["opportunity": "OPP-1", "outcome": "won", "amount": 9000]),
        Events.captured("L-2", at: "2026-03-02T10:00:00Z", extra: ["email": "ada@example.net"]),
        Events.event(.leadQualified, "L-2", id: "q-2", at: "2026-03-03T10:00:00Z", actor: "mops-bruno"),
        Events.event(.leadHandedOff, "L-2", id: "h-2", at: "2026-03-04T10:00:00Z", actor: "mops-bruno", ["to": "ae-dmitri"]),
        Events.event(.salesRejected, "L-2", id: "r-2", at: "2026-03-05T10:00:00Z", actor: "ae-dmitri", ["reason": "wrong_size", "recycle": true]),
    ]

    static let reports: [[String]] = [
        ["report", "funnel"], ["report", "quality"], ["report", "sla"], ["report", "monthly"], ["report", "attribution", "--model", "u-shaped"],
        ["report", "attribution", "--model", "linear", "--by", "campaign"], ["report", "plan", "--revenue", "100000"],
    ]

    @Test func eraseReadsErasedEverywhereWithTheReportsUnchanged() throws {
        let dir = TemporaryDirectory("erase-cli")
        let store = dir.file("store")
        let keyFile = try dir.write("master.key", MasterKey.generateBase64() + "\n")
        let input = try dir.write("events.jsonl", Self.events.map(Events.line).joined(separator: "\n"))
        let ingested = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--master-key-file", keyFile])
        #expect(ingested.status == 0, "\(ingested.stderr)")

        let shown = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--master-key-file", keyFile, "--format", "json"])
        #expect(try JSONParser.parse(shown.stdout)["profile"]?["email"] == .string(Self.email))
        // Without the key (nor the variable): locked, not a failure.
        let locked = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--format", "json"])
        #expect(locked.status == 0, "\(locked.stderr)")
        #expect(try JSONParser.parse(locked.stdout)["profile"]?["email"] == .string(SealedValue.lockedText))
        // The variable gives the key as well.
        let keyText = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let byVariable = try LeadLedgerBinary.run(
            ["lead", "show", "L-1", "--store", store, "--format", "json"], environment: [MasterKey.environmentVariable: keyText])
        #expect(try JSONParser.parse(byVariable.stdout)["profile"]?["email"] == .string(Self.email))

        let before = try Self.reports.map { try LeadLedgerBinary.run($0 + ["--store", store, "--format", "json"]).stdout }
        #expect(before.allSatisfy { !$0.isEmpty })

        // Erasing needs the master key (the other keys of the lead's chunk are wrapped again).
        let keyless = try LeadLedgerBinary.run(["lead", "erase", "L-1", "--reason", "GDPR request 9", "--store", store])
        #expect(keyless.status != 0)
        #expect(keyless.stderr.contains("--master-key-file") && keyless.stderr.contains(MasterKey.environmentVariable), "\(keyless.stderr)")
        let erased = try LeadLedgerBinary.run(
            ["lead", "erase", "L-1", "--reason", "GDPR request 9", "--actor", "dpo-kim", "--store", store, "--master-key-file", keyFile])
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.contains("erased lead L-1"))
        let again = try LeadLedgerBinary.run(
            ["lead", "erase", "L-1", "--reason", "again", "--store", store], environment: [MasterKey.environmentVariable: keyText])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("was erased already"))

        let after = try Self.reports.map { try LeadLedgerBinary.run($0 + ["--store", store, "--format", "json"]).stdout }
        #expect(after == before)
        #expect(try LeadLedgerBinary.run(["verify", "--store", store]).status == 0)

        let json = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--master-key-file", keyFile, "--format", "json"])
        let lead = try JSONParser.parse(json.stdout)
        #expect(lead["profile"]?["email"] == .string(SealedValue.erasedText))
        #expect(lead["profile"]?["emailDomain"] == "example.com")
        #expect(lead["erased"]?["reason"] == "GDPR request 9")
        #expect(lead["stage"] == "customer")
        let table = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store])
        #expect(table.stdout.contains("erased    "))
        for command in [["lead", "history", "L-1"], ["audit", "--lead", "L-1"]] {
            for format in ["csv", "json", "table"] {
                let output = try LeadLedgerBinary.run(command + ["--store", store, "--master-key-file", keyFile, "--format", format])
                #expect(output.status == 0, "\(output.stderr)")
                #expect(!output.stdout.contains("charles") && !output.stdout.contains("Babbage-5150"), "\(command) \(format)")
                #expect(output.stdout.contains(SealedValue.erasedText), "\(command) \(format)")
            }
        }
        let audit = try LeadLedgerBinary.run(["audit", "--type", "lead.erased", "--store", store, "--format", "csv"])
        #expect(audit.stdout.contains("dpo-kim") && audit.stdout.contains("GDPR request 9"))

        // A rebuild gives the same lead and reports.
        #expect(try LeadLedgerBinary.run(["rebuild", "--store", store]).status == 0)
        #expect(try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", store, "--master-key-file", keyFile, "--format", "json"]).stdout == json.stdout)
        #expect(try Self.reports.map { try LeadLedgerBinary.run($0 + ["--store", store, "--format", "json"]).stdout } == before)
    }

    @Test func writingPersonalFieldsNeedsTheMasterKeyAndAPlaintextStoreCannotBeErased() throws {
        let dir = TemporaryDirectory("erase-cli-errors")
        let encrypted = dir.file("encrypted")
        let keyFile = try dir.write("master.key", MasterKey.generateBase64())
        let input = try dir.write("events.jsonl", Self.events.map(Events.line).joined(separator: "\n"))
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", encrypted, "--master-key-file", keyFile]).status == 0)
        let more = try dir.write("more.jsonl", Events.line(Events.captured("L-3", extra: ["email": "x@y.example"])))
        let refused = try LeadLedgerBinary.run(["ingest", more, "--store", encrypted])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--master-key-file") && refused.stderr.contains(MasterKey.environmentVariable), "\(refused.stderr)")
        let wrong = try dir.write("wrong.key", MasterKey.generateBase64())
        let wrongKey = try LeadLedgerBinary.run(["lead", "show", "L-1", "--store", encrypted, "--master-key-file", wrong])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("not the key this store was created with"), "\(wrongKey.stderr)")
        let noReason = try LeadLedgerBinary.run(["lead", "erase", "L-1", "--reason", " ", "--store", encrypted])
        #expect(noReason.status != 0)
        #expect(noReason.stderr.contains("--reason"))
        let unknown = try LeadLedgerBinary.run(["lead", "erase", "L-9", "--reason", "r", "--store", encrypted])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown lead L-9"))

        let plaintext = dir.file("plaintext")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", plaintext]).status == 0)
        let erase = try LeadLedgerBinary.run(["lead", "erase", "L-1", "--reason", "request", "--store", plaintext])
        #expect(erase.status != 0)
        #expect(erase.stderr.contains("plaintext"), "\(erase.stderr)")
    }
}
