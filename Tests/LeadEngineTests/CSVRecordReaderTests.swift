import Foundation
@testable import LeadEngine
import Testing
import TestSupport

/// The record reader keeps each record's bytes while CSV.swift parses them: what it gives must
/// not depend on where reads cut the input.
@Suite("CSV records: the same whatever the read size")
struct CSVRecordReaderTests {
    struct Read: Equatable {
        var line: Int
        var cells: [String]
        var text: [UInt8]
        var problem: String?
    }

    func records(_ path: String, blockSize: Int, maxRecordBytes: Int = .max) throws -> [Read] {
        let reader = try CSVRecordReader(path: path, blockSize: blockSize, maxRecordBytes: maxRecordBytes)
        var all: [Read] = []
        while let record = try reader.next({ Read(line: $0.line, cells: $0.cells, text: Array($0.text), problem: $0.problem?.message) }) {
            all.append(record)
        }
        return all
    }

    /// Found by the CSV fuzz target: a record past the limit kept, as its rejected text, what
    /// happened to be buffered — part of the next line in one block, a cut record in small
    /// reads. It keeps its own bytes, whatever the read size.
    @Test func aTooLongRecordKeepsItsOwnTextWhateverTheReadSize() throws {
        let dir = TemporaryDirectory("csv-records")
        let path = try dir.write("crlf.csv", "id,type,lead,at,channel,campaign\r\nt-1,touch.email_click,L-1,2026-03-01T10:15:00Z,email,News\r\nt-2,touch.page_view,L-1,2026-03-01T11:00:00Z,web,Site\r\n")
        let small = try records(path, blockSize: 26, maxRecordBytes: 42)
        let whole = try records(path, blockSize: 65_536, maxRecordBytes: 42)
        #expect(small == whole)
        #expect(whole.count >= 2)
        #expect(whole.dropFirst().first.map { String(decoding: $0.text, as: UTF8.self) } == "t-1,touch.email_click,L-1,2026-03-01T10:15:00Z,email,News")
    }

    @Test func recordsDoNotDependOnTheReadSize() throws {
        let dir = TemporaryDirectory("csv-records")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("crm-export.csv"))))
        bytes += Array("x,\"Zoë — 東京 🚀\r\nnext\",\"a \"bad\" one\"\ny,Ren".utf8) + [0xE9, 0xC3] + Array(",\"\"\r\nz,\"open\n".utf8)
        let path = dir.file("mixed.csv")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let whole = try records(path, blockSize: 1 << 20)
        #expect(whole.count == 17)
        #expect(whole.map(\.line) == [1, 2, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 20, 21, 22, 24, 25])
        for blockSize in [16, 17, 31, 64, 1000] {
            #expect(try records(path, blockSize: blockSize) == whole, "block size \(blockSize)")
        }
        let tail = Array(whole.suffix(3))
        // (CSV.swift drops the character after a stray quote: the problem says so.)
        #expect(tail[0].cells == ["x", "Zoë — 東京 🚀\r\nnext", "a \"ad\"one"])
        #expect(tail[0].problem?.hasPrefix("a quoted cell must end with a quote") == true)
        #expect(tail[1].problem?.hasPrefix("byte 0xE9 at line 24, byte 6 is not UTF-8") == true)
        #expect(tail[2].cells == ["z", "open\n"])
        #expect(tail[2].problem == "the quoted cell is not closed")
        #expect(tail[2].text == Array("z,\"open\n".utf8))
    }

    @Test func aCharacterCutByTheEndOfTheInputIsNotUTF8() throws {
        let dir = TemporaryDirectory("csv-records")
        let path = dir.file("cut.csv")
        try Data(Array("a,b\nc,".utf8) + [0xE2, 0x82]).write(to: URL(fileURLWithPath: path))  // € without its last byte
        for blockSize in [16, 1 << 20] {
            let read = try records(path, blockSize: blockSize)
            #expect(read.map(\.cells) == [["a", "b"], ["c", "??"]])
            #expect(read.last?.problem?.hasPrefix("byte 0xE2 at line 2, byte 3 is not UTF-8") == true)
        }
    }

    /// Found by the CSV fuzz target (tools/fuzz): after the reader skipped one byte order mark,
    /// CSV.swift skipped the next itself, so a file saved twice with one had a header whose
    /// cells lacked the bytes its text had ("cannot be read as CSV"), and a file of marks
    /// alone was not read to its end.
    @Test func everyLeadingByteOrderMarkIsSkipped() throws {
        let dir = TemporaryDirectory("csv-records")
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let path = dir.file("marks.csv")
        let rows = Array("id,type,lead,at,channel\nt-1,touch.chat,L-1,2026-03-01T10:15:00Z,chat\n".utf8)
        for marks in 1...3 {
            try Data(Array(repeating: bom, count: marks).joined() + rows).write(to: URL(fileURLWithPath: path))
            for blockSize in [16, 1 << 20] {
                let read = try records(path, blockSize: blockSize)
                #expect(read.map(\.cells) == [["id", "type", "lead", "at", "channel"], ["t-1", "touch.chat", "L-1", "2026-03-01T10:15:00Z", "chat"]])
                #expect(read.allSatisfy { $0.problem == nil }, "\(marks) marks, blocks of \(blockSize)")
            }
        }
        try Data(bom + bom).write(to: URL(fileURLWithPath: path))
        for blockSize in [16, 1 << 20] {
            let reader = try CSVEventReader(path: path, blockSize: blockSize)
            #expect(try reader.forEachEvent { _, _, _ in true } == false)
            #expect(reader.bytesRead == 6)
        }
    }
}
