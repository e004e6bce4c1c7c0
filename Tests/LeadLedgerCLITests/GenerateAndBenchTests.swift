import Foundation
import LeadDomain
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
        // Three runs of ingest and baseline by default; the ratio is the median of theirs.
        let runs = try #require(json["ingestRuns"]?.arrayValue)
        #expect(runs.count == 3)
        let ratios = runs.compactMap { $0["ratio"]?.doubleValue }.sorted()
        #expect(ratios.count == 3 && json["ingestRatio"]?.doubleValue == ratios[1])
        // The work directory is removed afterwards.
        #expect(!FileManager.default.fileExists(atPath: dir.file("work")))
    }

    @Test func benchRefusesARoundCountOutsideItsRange() throws {
        let result = try LeadLedgerBinary.run(["bench", "--events", "400", "--runs", "0"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--runs must be between 1 and 20"))
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

    /// The lines between the demo's section `number` and the next.
    static func section(_ number: Int, of output: String) -> String {
        guard let start = output.range(of: "== \(number). ") else { return "" }
        let rest = output[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n== ")?.lowerBound ?? rest.endIndex)])
    }

    @Test func demoRunsEndToEndAndWritesTheReport() throws {
        let dir = TemporaryDirectory("demo")
        let store = dir.file("demo-store")
        let end = "2026-05-14T10:23:45Z"
        let result = try LeadLedgerBinary.run(["demo", "--store", store, "--leads", "400", "--end", end])
        #expect(result.status == 0, "\(result.stderr)")
        for section in ["1. Generate a year of history and the quarter before it", "2. Publish the spec's scoring rules first", "3. Ingest", "4. Ingest the same file again",
                        "5. Verify", "6. One lead's story", "7. The handoff audit", "8. What if", "9. Which channels", "10. The closed-loop report", "11. Accounts"] {
            #expect(result.stdout.contains(section), "missing section \(section)")
        }
        #expect(result.stdout.contains("from 2025-02-01 to 2026-05-14"))
        // Live scoring qualified leads during the ingest, and nothing was refused.
        let ingest = Self.section(3, of: result.stdout)
        #expect(ingest.contains("rejected 0"), "\(ingest)")
        #expect(ingest.contains("live scoring qualified"))
        // The story is one that live scoring qualified.
        #expect(Self.section(6, of: result.stdout).contains("leadledger-scoring"))
        // Every handoff in the audit shows its score stamp and rules version.
        let audit = Self.section(7, of: result.stdout)
        #expect(audit.contains("2026-11-a"))
        #expect(!audit.contains("null"), "\(audit)")
        let counts = audit.split(separator: "\n").last { $0.contains("handoffs carry") }?.split(separator: " ") ?? []
        #expect(counts.count > 3 && counts[0] == counts[2] && counts[0] != "0", "\(audit)")

        // Won revenue by account, and the top account's leads as of --end.
        let accounts = Self.section(11, of: result.stdout)
        #expect(accounts.contains("Attribution of won revenue by account"))
        #expect(accounts.contains("engaged") && accounts.contains("up to \(end)"), "\(accounts)")
        #expect(accounts.contains("assigned by"))
        #expect(result.stdout.contains("leadledger account show "))

        // The history ends at --end: nothing after it, captures from the first of the month
        // fifteen months before (the reports' year and the quarter that fills its pipeline).
        let events = try String(contentsOfFile: (store as NSString).appendingPathComponent("demo-events.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let times = events.compactMap { $0["at"]?.stringValue }
        #expect(times.count == events.count)
        #expect(times.allSatisfy { $0 >= "2025-02-01T00:00:00Z" && $0 <= end })

        // The page: every model side by side first (by channel, then by campaign), the SLA on it.
        let pageFile = (store as NSString).appendingPathComponent("leadledger-report.html")
        let page = try String(contentsOfFile: pageFile, encoding: .utf8)
        #expect(page.contains("<svg"))
        let firstChart = try #require(page.range(of: "<figure class=\"chart "))
        #expect(page[firstChart.upperBound...].hasPrefix("compare"))
        let reports = page.components(separatedBy: "data-report=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(reports == ["attribution-models", "attribution-models", "attribution", "attribution", "funnel", "quality", "sla", "monthly"])
        #expect(page.contains("Sales follow-up SLA"))
        // The monthly report: the twelve whole months before the end's month.
        let monthly = try #require(page.components(separatedBy: "data-report=\"monthly\"").last)
        let months = monthly.components(separatedBy: "<tr><td>").dropFirst().map { String($0.prefix(7)) }
        #expect(months == (0..<12).map { Events.at(end).monthStart(monthsBefore: 12 - $0).yearMonth })
        #expect(monthly.contains("2026-05 runs to 2026-05-14: the month to date is left out."))
        #expect(!page.contains("<script") && !page.contains("<link") && !page.contains("src="))

        // The same seed and --end give the same data and the same page, byte for byte.
        let again = dir.file("again")
        #expect(try LeadLedgerBinary.run(["demo", "--store", again, "--leads", "400", "--end", end]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: (again as NSString).appendingPathComponent("leadledger-report.html"))) == Data(page.utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: (again as NSString).appendingPathComponent("demo-events.jsonl")))
            == Data(contentsOf: URL(fileURLWithPath: (store as NSString).appendingPathComponent("demo-events.jsonl"))))

        // A second run recreates the demo store; without --end the history ends now.
        let before = Date()
        let now = try LeadLedgerBinary.run(["demo", "--store", store, "--leads", "50"])
        #expect(now.status == 0)
        let today = [before, Date()].map { Timestamp(microseconds: Int64($0.timeIntervalSince1970 * 1e6)).date }
        #expect(today.contains { now.stdout.contains("to \($0) (seed 42)") }, "\(now.stdout.prefix(200))")
        // A directory that is not a demo store is refused.
        let foreign = dir.file("not-a-demo")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try "keep me".write(toFile: (foreign as NSString).appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let refused = try LeadLedgerBinary.run(["demo", "--store", foreign])
        #expect(refused.status == 1)
        #expect(FileManager.default.fileExists(atPath: (foreign as NSString).appendingPathComponent("notes.txt")))
    }
}
