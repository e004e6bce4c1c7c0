import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger lead merge")
struct LeadMergeCommandTests {
    @Test func mergeThenShowTheDuplicate() throws {
        let dir = TemporaryDirectory("merge")
        let store = try LeadCommandTests.crmStore(dir)
        let merged = try LeadLedgerBinary.run(["lead", "merge", "L-2", "--into", "L-1", "--store", store, "--actor", "ops-lee", "--reason", "same person"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("merged lead L-2 into lead L-1 (position 10, by ops-lee)"))
        // Again: the same merge, made already.
        let again = try LeadLedgerBinary.run(["lead", "merge", "L-2", "--into", "L-1", "--store", store, "--actor", "ops-lee"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("was merged into lead L-1 already"))

        let shown = try LeadLedgerBinary.run(["lead", "show", "L-2", "--store", store])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.hasPrefix("lead L-2 was merged into lead L-1 (L-2 → L-1); showing lead L-1"))
        #expect(shown.stdout.contains("stage     sal"))
        let json = try LeadLedgerBinary.run(["lead", "show", "L-2", "--store", store, "--format", "json"])
        let value = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(value["lead"] == "L-1")
        #expect(value["merged"]?["from"] == "L-2")
        // Both leads' stage histories, in time order.
        #expect(value["stages"]?.arrayValue?.compactMap { $0["stage"]?.stringValue } == ["lead", "lead", "mql", "mql", "recycled", "sal"])

        let audit = try LeadLedgerBinary.run(["audit", "--type", "lead.merged", "--store", store, "--format", "csv"])
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(audit.stdout.contains("ops-lee"))
        #expect(audit.stdout.contains("merge:L-2:into:L-1"))

        // A rebuild gives the same lead.
        #expect(try LeadLedgerBinary.run(["rebuild", "--store", store]).status == 0)
        let rebuilt = try LeadLedgerBinary.run(["lead", "show", "L-2", "--store", store, "--format", "json"])
        #expect(rebuilt.stdout == json.stdout)
    }

    @Test func refusalsAndArgumentErrorsSayWhy() throws {
        let dir = TemporaryDirectory("merge")
        let store = try LeadCommandTests.crmStore(dir)
        let itself = try LeadLedgerBinary.run(["lead", "merge", "L-1", "--into", "L-1", "--store", store])
        #expect(itself.status != 0)
        #expect(itself.stderr.contains("cannot merge lead L-1 into itself"))
        let missing = try LeadLedgerBinary.run(["lead", "merge", "L-1", "--store", store])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--into"))
        let unknown = try LeadLedgerBinary.run(["lead", "merge", "L-9", "--into", "L-1", "--store", store])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("lead L-9 is unknown"))
        let reserved = try LeadLedgerBinary.run(["lead", "merge", "L-1", "--into", "$rules", "--store", store])
        #expect(reserved.status == 1)
        #expect(reserved.stderr.contains("may not start with '$'"))
        #expect(try LeadLedgerBinary.run(["lead", "merge", "L-2", "--into", "L-1", "--store", store]).status == 0)
        let cycle = try LeadLedgerBinary.run(["lead", "merge", "L-1", "--into", "L-2", "--store", store])
        #expect(cycle.status == 1)
        #expect(cycle.stderr.contains("would make a cycle"), "\(cycle.stderr)")
    }
}
