import Foundation
import LeadDomain
@testable import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// A line (a CSV record) longer than `maxLineBytes` is refused with its line number and its
/// first KiB, never kept whole: memory stays bounded whatever the input, and reading goes on
/// at the next line.
@Suite("Ingest: lines longer than --max-line-bytes")
struct LongLineTests {
    struct Line: Equatable, CustomStringConvertible {
        var number: Int
        var text: [UInt8]
        var tooLong: Bool
        var description: String { "\(number)\(tooLong ? " (too long)" : ""): \(text.count) bytes" }
    }

    static func read(_ path: String, blockSize: Int, maxLineBytes: Int) throws -> [Line] {
        let reader = try LineReader(path: path, blockSize: blockSize, maxLineBytes: maxLineBytes)
        var lines: [Line] = []
        while let line = try reader.nextLine({ Line(number: reader.lineNumber, text: Array($0), tooLong: reader.lineIsTooLong) }) {
            lines.append(line)
        }
        return lines
    }

    /// What the reader must give: each line without its `\n` or `\r\n`; one longer than the
    /// limit as its first KiB, cut before a character's continuation bytes.
    static func expected(_ bytes: [UInt8], maxLineBytes: Int) -> [Line] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.enumerated().map { index, raw in
            let text = raw.last == 0x0D ? Array(raw.dropLast()) : raw
            guard text.count > maxLineBytes else { return Line(number: index + 1, text: text, tooLong: false) }
            var kept = min(text.count, LineReader.keptBytes)
            var backed = 0
            while kept < text.count, backed < 3, text[kept] & 0xC0 == 0x80 {
                kept -= 1
                backed += 1
            }
            return Line(number: index + 1, text: Array(text.prefix(kept)), tooLong: true)
        }
    }

    @Test func linesAroundTheLimitWhateverTheBlockSize() throws {
        let seed = try TestSeed.fromEnvironment()
        var random = SeededRandom(seed: seed)
        let limit = 1024
        let pieces: [[UInt8]] = [Array("a".utf8), Array("é".utf8), Array("東".utf8), Array("🚀".utf8), [0x0D]]
        var bytes: [UInt8] = []
        // Lengths at the limit and about it, with and without CR, many-byte characters at the cut.
        for length in [0, 1, limit - 1, limit, limit + 1, limit + 2, limit + 3, 5 * limit, 40_000, 3, limit] + (0..<40).map({ _ in Int.random(in: 0...(3 * limit), using: &random) }) {
            var line: [UInt8] = []
            while line.count < length { line += pieces[Int.random(in: 0..<4, using: &random)] }
            if random.chance(0.3) { line.append(0x0D) }
            bytes += line + [0x0A]
        }
        bytes += Array(repeating: UInt8(ascii: "z"), count: 3000)  // the last line: too long, no line end
        let dir = TemporaryDirectory("long-lines")
        let path = dir.file("lines.txt")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let expected = Self.expected(bytes, maxLineBytes: limit)
        #expect(expected.contains { $0.tooLong } && expected.contains { !$0.tooLong })
        for blockSize in [16, 100, 1024, 1025, 4096, 1 << 20] {
            let lines = try Self.read(path, blockSize: blockSize, maxLineBytes: limit)
            #expect(lines == expected, "block size \(blockSize), seed \(seed) (LEADLEDGER_TEST_SEED)")
        }
    }

    static func valid(_ lead: String) -> String { Events.line(Events.captured(lead)) }

    func ingest(_ path: String, format: InputFormat = .jsonl, maxLineBytes: Int = Ingestor.defaultMaxLineBytes, into store: LeadStore, rejects: String) throws -> (IngestSummary, [JSONValue]) {
        let writer = RejectWriter(path: rejects)
        let ingestor = Ingestor(store: store, format: format)
        ingestor.maxLineBytes = maxLineBytes
        let summary = try ingestor.ingest(path: path, rejects: writer)
        try writer.close()
        guard FileManager.default.fileExists(atPath: rejects) else { return (summary, []) }
        let rejected = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        return (summary, rejected)
    }

    /// The issue's case: a 5 MiB line between two valid ones.
    @Test func aFiveMiBLineBetweenTwoValidOnesIsRefusedAsLineTwo() throws {
        let test = try TestStore("long-lines")
        let huge = #"{"id":"big","type":"touch.chat","lead":"L-1","at":"2026-03-01T10:00:00Z","data":{"channel":"chat","note":""# + String(repeating: "x", count: 5 << 20) + #""}}"#
        let path = try test.directory.write("events.jsonl", [Self.valid("L-1"), huge, Self.valid("L-2")].joined(separator: "\n") + "\n")
        let (summary, rejected) = try ingest(path, into: test.store, rejects: test.directory.file("rejects.jsonl"))
        #expect(summary.appended == 2)
        #expect(summary.rejected == 1)
        #expect(summary.lines == 3)
        #expect(rejected.count == 1)
        #expect(rejected.first?["line"] == 2)
        #expect(rejected.first?["reason"] == "line is longer than 1048576 bytes (--max-line-bytes)")
        #expect(rejected.first?["inputTruncated"] == true)
        #expect(rejected.first?["input"]?.stringValue == String(huge.prefix(LineReader.keptBytes)))
        #expect(try test.store.lead("L-2") != nil)
    }

    /// A line that never ends before the input does (a file of one 50 MiB line): refused at its
    /// line, the line before it stored. (`leadledger ingest` is measured on such a file too.)
    @Test func aLineThatRunsToTheEndOfTheInputIsRefusedAtItsLine() throws {
        let test = try TestStore("long-lines")
        let path = test.directory.file("endless.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: Data((Self.valid("L-1") + "\n").utf8))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        let block = Data(repeating: UInt8(ascii: "{"), count: 1 << 20)
        for _ in 0..<50 { try handle.write(contentsOf: block) }
        try handle.close()
        let (summary, rejected) = try ingest(path, into: test.store, rejects: test.directory.file("rejects.jsonl"))
        #expect(summary.appended == 1)
        #expect(rejected.map { $0["line"] } == [2])
        #expect(rejected.first?["input"]?.stringValue?.utf8.count == LineReader.keptBytes)
    }

    /// A blank line that is too long is still refused: only its first KiB was seen.
    @Test func aLongLineOfSpacesIsRefusedNotSkippedAsBlank() throws {
        let test = try TestStore("long-lines")
        let path = try test.directory.write("events.jsonl", String(repeating: " ", count: 2048) + "\n" + Self.valid("L-1") + "\n")
        let (summary, rejected) = try ingest(path, maxLineBytes: 1024, into: test.store, rejects: test.directory.file("rejects.jsonl"))
        #expect(summary.appended == 1)
        #expect(rejected.map { $0["line"] } == [1])
        #expect(rejected.first?["reason"] == "line is longer than 1024 bytes (--max-line-bytes)")
    }

    /// CSV: a record may span lines (line breaks in quoted cells), and an unclosed quote makes
    /// the rest of the input one record. A record the parser ends within the limit (and a
    /// few bytes) is refused whole and reading goes on after it; one it does not is refused
    /// at its first line, and reading goes on after the first line break at or past the
    /// limit — the same, whatever the read sizes.
    @Test(arguments: [16, 1000, 1 << 20])
    func aCSVRecordLongerThanTheLimitIsRefusedAtItsFirstLineAndReadingGoesOn(blockSize: Int) throws {
        let limit = 2048
        let header = "id,type,lead,at,source,notes\n"
        // (48 bytes before the notes, one after them.)
        func row(_ n: Int, notes: String = "ok") -> String {
            "c-\(n),lead.captured,L-\(n),2026-03-01T10:00:00Z,web,\"\(notes)\"\n"
        }
        #expect(row(1, notes: String(repeating: "y", count: limit - 49)).utf8.count == limit + 1)
        let unclosed = "c-7,lead.captured,L-7,2026-03-01T10:00:00Z,web,\"never closed\n"  // 61 bytes
        let text = header
            + row(1)                                                // line 2
            + row(2, notes: String(repeating: "y", count: 5000))   // line 3: too long
            + row(3, notes: "a\nb\r\nc")                           // lines 4-6
            + row(4, notes: String(repeating: "y", count: limit - 49))  // line 7: exactly the limit
            + row(5, notes: String(repeating: "y", count: limit - 48))  // line 8: a byte too long
            + row(6)                                                // line 9
            + unclosed                                              // line 10: runs on…
            + String(repeating: "lost text\n", count: 300)          // lines 11-310
            + row(8)                                                // line 311
        // The unclosed quote's record: its line breaks are at bytes 60, 70, 80…; reading goes
        // on after the first at or past byte 2,048.
        let breaksTaken = (limit - 60 + 9) / 10
        let resumed = 11 + breaksTaken
        let dir = TemporaryDirectory("long-csv")
        let path = try dir.write("events.csv", text)
        let records = try CSVRecordReader(path: path, blockSize: blockSize, maxRecordBytes: limit)
        var seen: [(line: Int, tooLong: Bool, id: String?)] = []
        while let record = try records.next({ ($0.line, $0.isTooLong, $0.cells.first) }) { seen.append(record) }
        #expect(seen.map(\.line) == [1, 2, 3, 4, 7, 8, 9, 10] + Array(resumed...311), "block size \(blockSize)")
        #expect(seen.filter(\.tooLong).map(\.line) == [3, 8, 10])
        #expect(seen.last?.id == "c-8")
        #expect(records.lineNumber == 311)

        let test = try TestStore("long-csv")
        let (summary, rejected) = try ingest(path, format: .csv, maxLineBytes: limit, into: test.store, rejects: dir.file("rejects.jsonl"))
        #expect(summary.appended == 5)
        #expect(rejected.map { $0["line"] } == ([3, 8, 10] + Array(resumed...310)).map { .number(Double($0)) })
        #expect(rejected.first?["reason"] == "record is longer than 2048 bytes (--max-line-bytes)")
        #expect(rejected.first?["inputTruncated"] == true)
        #expect(rejected.first?["input"]?.stringValue == String(row(2, notes: String(repeating: "y", count: 5000)).prefix(LineReader.keptBytes)))
        #expect(rejected[2]["input"]?.stringValue == String((unclosed + String(repeating: "lost text\n", count: 300)).prefix(LineReader.keptBytes)))
        // The lost text after the resumption is refused line by line, as rows of one cell.
        #expect(rejected[3]["reason"] == "the row has 1 cells but the header names 6 columns")
        #expect(rejected[3]["inputTruncated"] == nil)
        for lead in ["L-1", "L-3", "L-4", "L-6", "L-8"] { #expect(try test.store.lead(lead) != nil, "\(lead)") }
    }
}
