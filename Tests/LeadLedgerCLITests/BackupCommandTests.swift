import Foundation
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger backup and restore")
struct BackupCommandTests {
    static let reports: [[String]] = [
        ["report", "funnel"], ["report", "quality"], ["report", "sla"], ["report", "monthly"],
        ["report", "attribution", "--model", "w-shaped", "--by", "campaign"],
        ["report", "attribution", "--model", "markov"],
    ]

    func run(_ arguments: [String]) throws -> String {
        let result = try LeadLedgerBinary.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    @Test func aRestoredStoreAnswersTheSameReportsAndVerifies() throws {
        let dir = TemporaryDirectory("backup-cli")
        let store = try ReportCommandTests.store(dir)
        _ = try run(["keys", "create", "--role", "admin", "--name", "ops", "--store", store])
        let backup = dir.file("backups/first")
        let summary = try JSONParser.parse(try run(["backup", backup, "--store", store, "--format", "json"]))
        #expect(summary["path"] == .string(URL(fileURLWithPath: backup).standardizedFileURL.path))
        let position = try #require(summary["position"]?.doubleValue)
        #expect(position > 1_000)
        #expect(summary["files"]?.arrayValue?.count == 3)

        let restored = dir.file("restored")
        let said = try run(["restore", backup, "--store", restored])
        #expect(said.hasPrefix("restored ") && said.contains("verify passed"))
        #expect(try run(["verify", "--store", restored]).hasPrefix("ok:"))
        for report in Self.reports {
            let source = try run(report + ["--store", store, "--format", "json"])
            let copy = try run(report + ["--store", restored, "--format", "json"])
            #expect(source == copy, "\(report)")
        }
        #expect(try run(["keys", "list", "--store", restored]).contains("ops"))
    }

    @Test func aTamperedBackupIsRefusedNamingTheFile() throws {
        let dir = TemporaryDirectory("backup-cli-tamper")
        let store = try ReportCommandTests.store(dir)
        let backup = dir.file("backup")
        _ = try run(["backup", backup, "--store", store])
        let data = backup + "/data.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[bytes.count - 100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: data))
        let refused = try LeadLedgerBinary.run(["restore", backup, "--store", dir.file("new")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("restore refused: \(URL(fileURLWithPath: data).standardizedFileURL.path) has SHA-256"))
        #expect(refused.stderr.contains("the file was changed after the backup"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("new")))

        // A directory that is no backup; a store that exists.
        let none = try LeadLedgerBinary.run(["restore", dir.path, "--store", dir.file("new")])
        #expect(none.status == 1)
        #expect(none.stderr.contains("holds no manifest.json"))
        let occupied = try LeadLedgerBinary.run(["backup", store, "--store", store])
        #expect(occupied.status != 0)
        #expect(occupied.stderr.contains("DIR is the store itself"))
        let again = try LeadLedgerBinary.run(["backup", backup, "--store", store])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists and is not empty"))
        let missing = try LeadLedgerBinary.run(["restore", backup])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("--store"))
    }
}
