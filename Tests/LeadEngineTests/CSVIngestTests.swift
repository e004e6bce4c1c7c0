import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// CSV as CRMs and Excel export it: a byte order mark, CRLF, quoted cells with commas, `""`
/// and line breaks. Every valid row is stored; every refused row goes to the rejects file with
/// its first line and its text as it was.
@Suite("Ingest: CSV exports")
struct CSVIngestTests {
    /// `Tests/Fixtures/crm-export.csv`: a Salesforce/HubSpot-style export, rows with line
    /// breaks in quoted addresses and notes, four invalid rows, a blank line and an empty row.
    static let export = Fixtures.path("crm-export.csv")

    func ingest(_ path: String, batchSize: Int = 20_000, maxLineBytes: Int = Ingestor.defaultMaxLineBytes, into store: LeadStore, rejects: String) throws -> (IngestSummary, [JSONValue]) {
        let writer = RejectWriter(path: rejects)
        let ingestor = Ingestor(store: store, format: .csv, batchSize: batchSize)
        ingestor.maxLineBytes = maxLineBytes
        let summary = try ingestor.ingest(path: path, rejects: writer)
        try writer.close()
        guard FileManager.default.fileExists(atPath: rejects) else { return (summary, []) }
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        return (summary, rejected)
    }

    /// What the log holds, less the commit times and the hashes that chain them.
    func logContents(_ store: LeadStore) throws -> [[String]] {
        try store.log.records(from: 1, limit: Int(store.log.lastPosition)).map {
            [$0.id, $0.stream, $0.payload.map { String($0, radix: 16) }.joined(separator: " ")]
        }
    }

    func events(_ store: LeadStore, _ lead: String) throws -> [String: Envelope] {
        Dictionary(uniqueKeysWithValues: try store.history(of: lead).map { ($0.event.id, $0.event) })
    }

    @Test(arguments: [20_000, 3, 1])
    func everyValidRowOfACRMExportIsStoredAndEachInvalidOneRefusedOnItsFirstLine(batchSize: Int) throws {
        let test = try TestStore("csv")
        let (summary, rejected) = try ingest(Self.export, batchSize: batchSize, into: test.store, rejects: test.directory.file("rejects.jsonl"))
        #expect(summary.appended == 7)
        #expect(summary.rejected == 4)
        #expect(summary.lines == 11)  // records: the header, the blank line and the empty row not counted
        #expect(rejected.map { $0["line"] } == [9, 10, 12, 15])
        let reasons = rejected.map { $0["reason"]?.stringValue ?? "" }
        #expect(reasons[0] == "the row has 15 cells but the header names 16 columns")
        #expect(reasons[1].hasPrefix("column \"company\": a quoted cell must end with a quote"))
        #expect(reasons[2].hasPrefix("field \"at\": \"03/07/2026 10:00\""))
        #expect(reasons[3] == "field \"data.employees\": \"about 50\" is not a number")

        // A refused record's input is its text as it was, line breaks inside it included.
        let text = try String(contentsOfFile: Self.export, encoding: .utf8)
        let start = try #require(text.range(of: "\"sf-0005\""))
        let end = try #require(text.range(of: "not e-mail.\"", range: start.upperBound..<text.endIndex))
        #expect(rejected[2]["input"] == .string(String(text[start.lowerBound..<end.upperBound])))
        #expect(rejected[2]["input"]?.stringValue?.contains("Message:\r\nPlease call me,\r\nnot e-mail.") == true)

        let acme = try events(test.store, "00Q5g00000AbCdE")
        #expect(Set(acme.keys) == ["sf-0001", "hs-7001", "sf-0004", "hs-7005"])
        let captured = try #require(acme["sf-0001"]).data
        #expect(captured["street"] == .string("1 Main St\nSuite 400\nSpringfield, IL 62701"))
        #expect(captured["notes"] == .string("Asked about \"enterprise\" pricing.\r\nCall back after Q2."))
        #expect(captured["campaign"] == .string("Spring Launch, 2026"))
        #expect(captured["company"] == .string("Acme, Inc."))
        #expect(captured["firstName"] == .string("Zoë"))
        #expect(captured["employees"] == .number(250))
        #expect(captured["annualRevenue"] == .number(12_000_000))
        let open = try #require(acme["hs-7001"]).data
        #expect(open["campaign"] == .string("Nurture #3, \"Pricing\""))
        #expect(open.keys == ["channel", "campaign"])  // empty cells are left out
        let initech = try events(test.store, "00Q5g00000XyZaB")
        #expect(Set(initech.keys) == ["sf-0002", "hs-7002", "hs-7004"])
        #expect(initech["hs-7004"]?.data["notes"] == .string("Wants a demo for 3 teams:\r\n- sales, \"SDR\" & AE\r\n- marketing ops"))
        #expect(try test.store.history(of: "00Q5g00000QwErT").isEmpty)
        #expect(try test.store.history(of: "00Q5g00000PoIuY").isEmpty)
    }

    @Test func theByteOrderMarkChangesNothing() throws {
        let dir = TemporaryDirectory("csv")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.export)))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        bytes.removeFirst(3)
        let plain = dir.file("plain.csv")
        try Data(bytes).write(to: URL(fileURLWithPath: plain))
        let withMark = try TestStore("bom")
        let without = try TestStore("plain")
        let first = try ingest(Self.export, into: withMark.store, rejects: dir.file("a.jsonl"))
        let second = try ingest(plain, into: without.store, rejects: dir.file("b.jsonl"))
        #expect(first.0 == second.0)
        #expect(first.1.map { $0["line"] } == second.1.map { $0["line"] })
        #expect(try logContents(withMark.store).map { [$0[0], $0[2]] } == logContents(without.store).map { [$0[0], $0[2]] })
    }

    @Test func brokenQuotingAndBytesThatAreNotUTF8AreRefusedWithTheirLineAndTheRestIsStored() throws {
        let dir = TemporaryDirectory("csv")
        var bytes = Array("id,type,lead,at,source,notes\n".utf8)
        bytes += Array("c-1,lead.captured,L-1,2026-03-01T10:00:00Z,web,12\" display\n".utf8)  // a quote inside an unquoted cell is text
        bytes += Array("c-2,lead.captured,L-2,2026-03-01T10:00:00Z,web,Ren".utf8) + [0xE9] + Array("\n".utf8)  // Latin-1 é
        bytes += Array("c-3,lead.captured,L-3,2026-03-01T10:00:00Z,web,\"\"\n".utf8)  // an empty quoted cell
        bytes += Array("c-4,lead.captured,L-4,2026-03-01T10:00:00Z,web,\"a \"quote\" and more\"\n".utf8)  // bad quoting
        bytes += Array("c-5,lead.captured,L-5,2026-03-01T10:00:00Z,web,\"fine\"\n".utf8)
        bytes += Array("c-6,lead.captured,L-6,2026-03-01T10:00:00Z,web,\"never closed\nc-7,lead.captured,L-7,2026-03-01T10:00:00Z,web,x\n".utf8)
        let input = dir.file("broken.csv")
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        let test = try TestStore("csv")
        let (summary, rejected) = try ingest(input, into: test.store, rejects: dir.file("rejects.jsonl"))
        #expect(summary.appended == 3)
        #expect(rejected.map { $0["line"] } == [3, 5, 7])
        #expect(rejected[0]["reason"] == "byte 0xE9 at line 3, byte 51 is not UTF-8 (export the file as UTF-8 CSV)")
        #expect(rejected[1]["reason"]?.stringValue?.hasPrefix("column \"notes\": a quoted cell must end with a quote") == true)
        // An unclosed quote takes the rest of the input into its record: all of it is kept.
        #expect(rejected[2]["reason"] == "column \"notes\": the quoted cell is not closed")
        #expect(rejected[2]["input"]?.stringValue?.hasSuffix("c-7,lead.captured,L-7,2026-03-01T10:00:00Z,web,x\n") == true)
        #expect(try test.store.history(of: "L-1").first?.event.data["notes"] == .string("12\" display"))
        #expect(try test.store.history(of: "L-3").first?.event.data["notes"] == nil)
        #expect(try test.store.history(of: "L-5").count == 1)
    }

    /// A number cell is read with Swift's `Double(_:)`, which also reads `inf`, `nan` and
    /// `1e400` (as infinity): refused like any number out of range, naming the field.
    @Test func numberCellsThatAreNotFiniteOrOutOfRangeAreRefusedNamingTheField() throws {
        let dir = TemporaryDirectory("csv")
        let text = """
            id,type,lead,at,actor,source,employees,annualRevenue,opportunity,outcome,amount,score,to
            c-1,lead.captured,L-1,2026-03-01T10:00:00Z,,web,10000000,1000000000000000,,,,,
            c-2,lead.captured,L-2,2026-03-01T10:00:00Z,,web,,inf,,,,,
            c-3,lead.captured,L-3,2026-03-01T10:00:00Z,,web,10000001,,,,,,
            c-4,lead.captured,L-4,2026-03-01T10:00:00Z,,web,,1e400,,,,,
            q-1,lead.qualified,L-1,2026-03-02T10:00:00Z,,,,,,,,nan,
            h-1,lead.handed_off,L-1,2026-03-02T10:00:00Z,mops,,,,,,,-Infinity,ae
            d-1,deal.closed,L-1,2026-03-03T10:00:00Z,ae,,,,O-1,won,1e16,,

            """
        let input = try dir.write("numbers.csv", text)
        let test = try TestStore("csv")
        let (summary, rejected) = try ingest(input, into: test.store, rejects: dir.file("rejects.jsonl"))
        #expect(summary.appended == 1)
        #expect(rejected.map { $0["line"] } == [3, 4, 5, 6, 7, 8])
        #expect(rejected.map { $0["reason"]?.stringValue ?? "" } == [
            "field \"data.annualRevenue\": \"inf\" is not a finite number",
            "field \"data.employees\": must be a whole number from 0 to 10,000,000, found 10000001",
            "field \"data.annualRevenue\": \"1e400\" is not a finite number",
            "field \"data.score\": \"nan\" is not a finite number",
            "field \"data.score\": \"-Infinity\" is not a finite number",
            "field \"data.amount\": must be a number from 0 to 10^15, found 1e+16",
        ])
        let profile = try #require(test.store.history(of: "L-1").first).event.data
        #expect(profile["employees"] == 10_000_000)
        #expect(profile["annualRevenue"] == .number(1e15))
    }

    /// A record longer than the read buffer (1 MiB) makes it grow; characters of several bytes
    /// are cut by the edges of every block read and every chunk handed to the parser. (The
    /// default --max-line-bytes, 1 MiB, would refuse it: the limit is raised.)
    @Test func longRecordsAndCharactersAcrossReadBlocksAreReadWhole() throws {
        let dir = TemporaryDirectory("csv")
        let note = String(repeating: "Zoë Müller — 東京, \"Q3\"\r\n", count: 24)  // 2, 3 and 1-byte characters
        let long = String(repeating: "日本語のメモ\n", count: 70_000)  // about 1.3 MB in one cell
        var text = "\u{FEFF}id,type,lead,at,source,notes\r\n"
        for index in 1...600 {
            let cell = index == 300 ? long : note
            text += "c-\(index),lead.captured,L-\(index),2026-03-01T10:00:00Z,web,\"\(cell.replacingOccurrences(of: "\"", with: "\"\""))\"\r\n"
        }
        let input = try dir.write("long.csv", text)
        let test = try TestStore("csv")
        let (summary, rejected) = try ingest(input, batchSize: 50, maxLineBytes: 4 << 20, into: test.store, rejects: dir.file("rejects.jsonl"))
        #expect(rejected.isEmpty)
        #expect(summary.appended == 600)
        #expect(try test.store.history(of: "L-300").first?.event.data["notes"] == .string(long))
        for index in [1, 299, 301, 600] {
            #expect(try test.store.history(of: "L-\(index)").first?.event.data["notes"] == .string(note))
        }
    }

    @Test func anInputThatIsNotUsableCSVFailsNamingWhyAndStoresNothing() throws {
        let dir = TemporaryDirectory("csv")
        let test = try TestStore("csv")
        let utf16 = dir.file("utf16.csv")
        try Data([0xFF, 0xFE] + Array("id,type\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).write(to: URL(fileURLWithPath: utf16))
        let noID = try dir.write("no-id.csv", "\n\nlead,type,at\nL-1,lead.captured,2026-03-01T10:00:00Z\n")
        let badHeader = try dir.write("bad-header.csv", "id,\"type\n")
        let cases: [(String, String)] = [
            (utf16, "\(utf16): is UTF-16 or UTF-32 text"),
            (noID, "\(noID) line 3: the header row names no \"id\" column (it names \"lead\", \"type\", \"at\")"),
            (badHeader, "\(badHeader) line 1: cell 2 of the header row: the quoted cell is not closed"),
            (dir.file("missing.csv"), "\(dir.file("missing.csv")): cannot read it: no such file or directory"),
        ]
        for (path, message) in cases {
            let error = #expect(throws: CSVInputFailure.self) {
                _ = try ingest(path, into: test.store, rejects: dir.file("rejects.jsonl"))
            }
            #expect(error?.description.hasPrefix(message) == true, "\(String(describing: error))")
        }
        #expect(try test.store.log.lastPosition == 0)
        let empty = try dir.write("empty.csv", "")
        #expect(try ingest(empty, into: test.store, rejects: dir.file("rejects.jsonl")).0 == IngestSummary())
    }
}
