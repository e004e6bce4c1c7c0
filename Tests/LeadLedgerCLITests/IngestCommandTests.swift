import Foundation
import LeadDomain
import LedgerJSON
import Testing
import TestSupport

/// End-to-end tests of the `leadledger` executable, as a user runs it.
@Suite("leadledger ingest and verify")
struct IngestCommandTests {
    static let valid = [
        Events.captured("L-1", at: "2026-03-01T10:00:00Z"),
        Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z"),
        Events.captured("L-2", at: "2026-03-01T11:00:00Z"),
        Events.touch("L-2", id: "t-2", .touchWebinarAttended, at: "2026-03-03T10:00:00Z", channel: "webinar"),
    ].map(Events.line).joined(separator: "\n") + "\n"

    func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func ingestsEveryLineThenReportsThemAllAsDuplicates() throws {
        let dir = TemporaryDirectory("cli")
        let input = try dir.write("events.jsonl", Self.valid)
        let store = dir.file("store")
        let first = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try json(first.stdout)["appended"] == .number(4))
        #expect(try json(first.stdout)["duplicates"] == .number(0))
        #expect(try json(first.stdout)["rejected"] == .number(0))
        let second = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(second.status == 0)
        #expect(try json(second.stdout)["appended"] == .number(0))
        #expect(try json(second.stdout)["duplicates"] == .number(4))
        #expect(!FileManager.default.fileExists(atPath: input + ".rejects.jsonl"))
        let verify = try LeadLedgerBinary.run(["verify", "--store", store])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("ok: 4 events"))
    }

    /// A line that never ends (`leadledger ingest /dev/zero`) must not grow memory with it:
    /// a 50 MiB line without a line end, after a valid line, is refused as line 2 and the
    /// process stays under 64 MiB resident (it held the whole line, and more, before).
    @Test func aFiftyMiBLineWithoutALineEndIsRefusedInBoundedMemory() throws {
        let dir = TemporaryDirectory("cli")
        let input = dir.file("endless.jsonl")
        _ = FileManager.default.createFile(atPath: input, contents: Data((Events.line(Events.captured("L-1")) + "\n").utf8))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try handle.seekToEnd()
        let block = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<50 { try handle.write(contentsOf: block) }
        try handle.close()
        let (result, peakKiB) = try LeadLedgerBinary.runMeasuringPeakMemory(["ingest", input, "--store", dir.file("store"), "--format", "json"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(try json(result.stdout)["appended"] == .number(1))
        #expect(try json(result.stdout)["rejected"] == .number(1))
        #expect(peakKiB > 0 && peakKiB < 64 << 10, "peak RSS \(peakKiB) KiB")
        let rejects = try String(contentsOfFile: input + ".rejects.jsonl", encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
        #expect(rejects.count == 1)
        #expect(rejects.first?["line"] == .number(2))
        #expect(rejects.first?["reason"] == "line is longer than 1048576 bytes (--max-line-bytes)")
        #expect(rejects.first?["inputTruncated"] == true)
        #expect(rejects.first?["input"] == .string(String(repeating: "x", count: 1024)))
    }

    @Test func rejectedLinesGoToTheRejectsFileWithLineAndReasonWhileTheRestIsStored() throws {
        let dir = TemporaryDirectory("cli")
        let lines = [
            Events.line(Events.captured("L-1")),
            #"{"id":"broken","type":"lead.captured""#,
            Events.line(Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z")),
            "",
            #"{"id":"bad-time","type":"touch.chat","lead":"L-1","at":"yesterday","data":{"channel":"chat"}}"#,
            #"{"id":"bad-type","type":"lead.teleported","lead":"L-1","at":"2026-03-02T10:00:00Z"}"#,
        ]
        let input = try dir.write("mixed.jsonl", lines.joined(separator: "\n"))
        let store = dir.file("store")
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(result.status == 2, "\(result.stderr)")
        let summary = try json(result.stdout)
        #expect(summary["appended"] == .number(2))
        #expect(summary["rejected"] == .number(3))
        #expect(result.stderr.contains("mixed.jsonl.rejects.jsonl"))

        let rejects = try String(contentsOfFile: input + ".rejects.jsonl", encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(rejects.map { $0["line"] } == [.number(2), .number(5), .number(6)])
        #expect(rejects[0]["reason"]?.stringValue?.contains("invalid JSON at column") == true)
        #expect(rejects[1]["reason"]?.stringValue?.contains("field \"at\"") == true)
        #expect(rejects[2]["reason"]?.stringValue?.contains("unknown event type \"lead.teleported\"") == true)
        // The original line is kept verbatim, so nothing is lost.
        #expect(rejects[0]["input"] == .string(lines[1]))

        // Once fixed and re-run, the accepted lines are duplicates and the stale rejects go.
        let fixed = try dir.write("mixed.jsonl", [lines[0], lines[2]].joined(separator: "\n"))
        let rerun = try LeadLedgerBinary.run(["ingest", fixed, "--store", store])
        #expect(rerun.status == 0)
        #expect(rerun.stdout.contains("appended 0, duplicates 2, rejected 0"))
        #expect(!FileManager.default.fileExists(atPath: input + ".rejects.jsonl"))
    }

    @Test func readsStdinAndHonoursLeadledgerStore() throws {
        let dir = TemporaryDirectory("cli")
        let store = dir.file("env-store")
        let result = try LeadLedgerBinary.run(["ingest", "-"], stdin: Self.valid, environment: ["LEADLEDGER_STORE": store], directory: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("appended 4"))
        #expect(FileManager.default.fileExists(atPath: (store as NSString).appendingPathComponent("data.mdb")))
    }

    @Test func theDefaultStoreIsLeadledgerDataInTheWorkingDirectory() throws {
        let dir = TemporaryDirectory("cli")
        let result = try LeadLedgerBinary.run(["ingest"], stdin: Self.valid, directory: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("leadledger-data/data.mdb")))
    }

    @Test func ingestsCSVWithAHeaderRow() throws {
        let dir = TemporaryDirectory("cli")
        let csv = """
            id,type,lead,at,actor,source,channel,campaign,employees
            c-1,lead.captured,L-9,2026-03-01T10:00:00Z,crm,website,organic,"Spring, 2026",250
            c-2,touch.email_click,L-9,2026-03-02T10:00:00Z,crm,,email,Newsletter,
            c-3,touch.email_click,L-9,not-a-time,crm,,email,Newsletter,

            """
        let input = try dir.write("export.csv", csv)
        let store = dir.file("store")
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(result.status == 2)
        #expect(try json(result.stdout)["appended"] == .number(2))
        let rejects = try String(contentsOfFile: input + ".rejects.jsonl", encoding: .utf8)
        #expect(rejects.contains("\"line\":4"))
        #expect(rejects.contains("field \\\"at\\\""))
    }

    /// `Tests/Fixtures/crm-export.csv`: a byte order mark, CRLF, quoted commas, `""` and line
    /// breaks in quoted cells, and four invalid rows.
    @Test func ingestsACRMExportFromAFileAndFromStdinWithRejectsOnTheirFirstLine() throws {
        let dir = TemporaryDirectory("cli")
        let text = try String(contentsOfFile: Fixtures.path("crm-export.csv"), encoding: .utf8)
        let input = try dir.write("export.csv", text)
        let store = dir.file("store")
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(try json(result.stdout)["appended"] == .number(7))
        #expect(try json(result.stdout)["rejected"] == .number(4))
        #expect(result.stderr.contains("4 line(s) rejected; see \(input).rejects.jsonl"))
        func lines(_ path: String) throws -> [JSONValue?] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0))["line"] }
        }
        #expect(try lines(input + ".rejects.jsonl") == [9, 10, 12, 15])

        let piped = try LeadLedgerBinary.run(["ingest", "-", "--format", "csv", "--format", "json", "--store", store], stdin: text, directory: dir.path)
        #expect(piped.status == 2, "\(piped.stderr)")
        #expect(try json(piped.stdout)["duplicates"] == .number(7))
        #expect(try json(piped.stdout)["rejected"] == .number(4))
        #expect(try lines(dir.file("stdin.rejects.jsonl")) == [9, 10, 12, 15])
        let history = try LeadLedgerBinary.run(["lead", "history", "00Q5g00000AbCdE", "--store", store, "--format", "json"])
        let rows = try #require(try json(history.stdout)["rows"]?.arrayValue)
        #expect(rows.first?["data"]?["street"] == "1 Main St\nSuite 400\nSpringfield, IL 62701")
    }

    @Test func aCSVInputWithoutAnIdColumnFailsWithExitCodeOneNamingItsHeader() throws {
        let dir = TemporaryDirectory("cli")
        let input = try dir.write("contacts.csv", "Email,First Name\r\nzoe@acme.example,Zoë\r\n")
        let result = try LeadLedgerBinary.run(["ingest", input, "--store", dir.file("store")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(input) line 1: the header row names no \"id\" column (it names \"Email\", \"First Name\")"))
        #expect(!FileManager.default.fileExists(atPath: input + ".rejects.jsonl"))
    }

    @Test func aMissingInputFailsWithExitCodeOneAndStoresNothing() throws {
        let dir = TemporaryDirectory("cli")
        let result = try LeadLedgerBinary.run(["ingest", dir.file("nope.jsonl"), "--store", dir.file("store")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("nope.jsonl"))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func verifyNamesTheFirstBadPositionAfterAByteChanges() throws {
        let dir = TemporaryDirectory("cli")
        let events = (1...50).map { Events.captured("L-\($0)", source: $0 == 31 ? "SOURCE-MARKER-31" : "website") }
        let input = try dir.write("events.jsonl", events.map(Events.line).joined(separator: "\n"))
        let store = dir.file("store")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        let dataFile = URL(fileURLWithPath: store).appendingPathComponent("data.mdb")
        var bytes = [UInt8](try Data(contentsOf: dataFile))
        let needle = Array("SOURCE-MARKER-31".utf8)
        let index = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        bytes[index + 7] ^= 0x20
        try Data(bytes).write(to: dataFile)
        let result = try LeadLedgerBinary.run(["verify", "--store", store, "--format", "json"])
        #expect(result.status != 0)
        #expect(try json(result.stdout)["position"] == .number(31))
        #expect(result.stderr.contains("position 31"))
    }
}
