import Foundation
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger generate, bench and demo")
struct GenerateAndBenchTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func generateIsDeterministicValidAndAcceptedWhole() throws {
        let dir = TemporaryDirectory("generate")
        let first = dir.file("a.jsonl"), second = dir.file("b.jsonl"), other = dir.file("c.jsonl")
        #expect(try LeadLedgerBinary.run(["generate", "--leads", "300", "--seed", "9", "--out", first]).status == 0)
        #expect(try LeadLedgerBinary.run(["generate", "--leads", "300", "--seed", "9", "--out", second]).status == 0)
        #expect(try LeadLedgerBinary.run(["generate", "--leads", "300", "--seed", "10", "--out", other]).status == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: first))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: second))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: other))))
        let lines = String(decoding: a, as: UTF8.self).split(separator: "\n")
        #expect(lines.count > 300 * 15 && lines.count < 300 * 26)  // about 20 per lead

        // stdout works too, and gives the same bytes.
        let printed = try LeadLedgerBinary.run(["generate", "--leads", "300", "--seed", "9"])
        #expect(Data(printed.stdout.utf8) == a)

        // Every event is valid under the schemas (a real validator) and the lifecycle.
        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        checker.arguments = ["python3", "\(Self.repository)/tools/check-schemas.py", "--events", first]
        checker.standardOutput = FileHandle.nullDevice
        checker.standardError = FileHandle.nullDevice
        try checker.run()
        checker.waitUntilExit()
        #expect(checker.terminationStatus == 0)
        let ingested = try LeadLedgerBinary.run(["ingest", first, "--store", dir.file("store"), "--format", "json"])
        #expect(ingested.status == 0)
        let summary = try JSONParser.parse(ingested.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["appended"] == .number(Double(lines.count)))
        #expect(summary["rejected"] == 0)
    }

    @Test func benchPrintsWellFormedJSONOnATinyRun() throws {
        let dir = TemporaryDirectory("bench")
        let result = try LeadLedgerBinary.run(["bench", "--events", "400", "--directory", dir.file("work"), "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["events"] == 400)
        for key in ["ingestEventsPerSec", "baselineIngestEventsPerSec", "replayEventsPerSec", "baselineScanEventsPerSec",
                    "rescoreSeconds", "attributionSeconds", "leadReadMicrosP50", "leadReadMicrosP99", "peakRSSMiB",
                    "baselinePutIngestEventsPerSec", "ingestCommits", "baselineBatchSize"] {
            let value = try #require(json[key]?.doubleValue, "\(key) missing")
            #expect(value > 0, "\(key)")
        }
        #expect(json["attributionSecondsByModel"]?.objectValue?.count == 10)
        // The baseline commits as many records per transaction as the engine did on average.
        let commits = try #require(json["ingestCommits"]?.doubleValue)
        #expect(json["baselineBatchSize"]?.doubleValue == (400 / commits).rounded())
        // Three rounds of ingest and baseline by default; the ratio is the median of theirs.
        let rounds = try #require(json["ingestRounds"]?.arrayValue)
        #expect(rounds.count == 3)
        let ratios = rounds.compactMap { $0["ratio"]?.doubleValue }.sorted()
        #expect(ratios.count == 3 && json["ingestRatio"]?.doubleValue == ratios[1])
        // The work directory is removed afterwards.
        #expect(!FileManager.default.fileExists(atPath: dir.file("work")))
    }

    @Test func benchRefusesARoundCountOutsideItsRange() throws {
        let result = try LeadLedgerBinary.run(["bench", "--events", "400", "--rounds", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--rounds must be between 1 and 20"))
    }

    /// `--end` and `--days` bound the history; `--rules` makes it begin with their
    /// publication and fit live scoring under them: ingested alone, nothing is refused.
    @Test func generateTakesAnEndAPeriodAndRules() throws {
        let dir = TemporaryDirectory("generate")
        let file = dir.file("ruled.jsonl")
        let rules = "\(Self.repository)/Schemas/examples/rules/valid/spec-example.yaml"
        let generated = try LeadLedgerBinary.run(["generate", "--leads", "300", "--seed", "4", "--end", "2026-02-01", "--days", "120", "--rules", rules, "--out", file])
        #expect(generated.status == 0, "\(generated.stderr)")
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let events = try lines.map { try JSONParser.parse(String($0)) }
        #expect(events.first?["type"] == "rules.published")
        #expect(events.first?["at"] == "2025-10-04T00:00:00Z")
        let times = events.compactMap { $0["at"]?.stringValue }
        #expect(times.count == events.count)
        // (Times are printed in UTC to the second: they compare as text.)
        #expect(times.allSatisfy { $0 >= "2025-10-04T00:00:00Z" && $0 <= "2026-02-01T00:00:00Z" })

        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        checker.arguments = ["python3", "\(Self.repository)/tools/check-schemas.py", "--events", file]
        checker.standardOutput = FileHandle.nullDevice
        checker.standardError = FileHandle.nullDevice
        try checker.run()
        checker.waitUntilExit()
        #expect(checker.terminationStatus == 0)

        let ingested = try LeadLedgerBinary.run(["ingest", file, "--store", dir.file("store"), "--format", "json"])
        #expect(ingested.status == 0, "\(ingested.stderr)")
        let summary = try JSONParser.parse(ingested.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(summary["rejected"] == 0)
        #expect(summary["appended"] == .number(Double(lines.count)))
        let shown = try LeadLedgerBinary.run(["rules", "show", "--store", dir.file("store"), "--format", "json"])
        #expect(try JSONParser.parse(shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["version"] == "2026-11-a")

        let badDays = try LeadLedgerBinary.run(["generate", "--leads", "3", "--days", "0"])
        #expect(badDays.status != 0)
        #expect(badDays.stderr.contains("--days must be between 1 and 3650"))
        let badEnd = try LeadLedgerBinary.run(["generate", "--leads", "3", "--end", "soon"])
        #expect(badEnd.status == 1)
        #expect(badEnd.stderr.contains("--end soon is not a time"))
    }

    @Test func demoRunsEndToEndAndWritesTheReport() throws {
        let dir = TemporaryDirectory("demo")
        let store = dir.file("demo-store")
        let result = try LeadLedgerBinary.run(["demo", "--store", store, "--leads", "400"])
        #expect(result.status == 0, "\(result.stderr)")
        for section in ["1. Generate", "2. Ingest", "3. Ingest the same file again", "4. Verify", "5. Publish", "6. One lead's story",
                        "7. The handoff audit", "8. What if", "9. Which channels", "10. The closed-loop report"] {
            #expect(result.stdout.contains(section), "missing section \(section)")
        }
        #expect(result.stdout.contains("rejected 0"))
        let page = try String(contentsOfFile: (store as NSString).appendingPathComponent("leadledger-report.html"), encoding: .utf8)
        #expect(page.contains("<svg"))
        // A second run recreates the demo store; a directory that is not a demo store is refused.
        #expect(try LeadLedgerBinary.run(["demo", "--store", store, "--leads", "50"]).status == 0)
        let foreign = dir.file("not-a-demo")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try "keep me".write(toFile: (foreign as NSString).appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let refused = try LeadLedgerBinary.run(["demo", "--store", foreign])
        #expect(refused.status == 1)
        #expect(FileManager.default.fileExists(atPath: (foreign as NSString).appendingPathComponent("notes.txt")))
    }
}
