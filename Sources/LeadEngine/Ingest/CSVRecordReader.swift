import CSV
import Foundation
import LedgerSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV input that cannot be read as a whole: it cannot be opened or read, it is not UTF-8,
/// or its header row is unusable. Nothing of it is stored.
public struct CSVInputFailure: Error, CustomStringConvertible {
    public let path: String
    /// The line the failure is about, if it is about one.
    public let line: Int?
    public let message: String

    public var description: String {
        line.map { "\(path) line \($0): \(message)" } ?? "\(path): \(message)"
    }
}

/// Reads the records of a CSV file (or stdin) one at a time through CSV.swift's streaming
/// `CSVReader`, and gives each with its first line number and its text as it was in the input
/// (which the rejects file keeps). Memory stays at about a block and the longest record.
///
/// CSV.swift reads RFC 4180 (CRLF or LF, quoted cells with commas, `""` and line breaks) but
/// says neither where a record was nor when its quoting was wrong: it gives the cells only.
/// The input goes to it through `RecordStream`, which keeps the bytes of the record being
/// read; a record's text then ends at its first line break that is not inside one of its cells
/// (the parser never drops a line break, so the count is exact), and comparing that text with
/// the cells shows quoting the parser tolerated by dropping characters.
///
/// A record longer than `maxRecordBytes` (often the rest of the file, after a quote that is
/// never closed) is not kept: the stream hands the parser at most `maxRecordBytes` + 3 bytes
/// of a record, and a record the parser has not ended by then is given with its first KiB and
/// a problem, and reading goes on, with a new parser, after the first line break at or past
/// byte `maxRecordBytes` of it — where it would go on whatever the read sizes. (A record that
/// long because of a quoted cell with line breaks has the rest of that cell's lines read as
/// rows, which are refused.) A record the parser ends within those bytes but that is still
/// too long (by a byte or two) is refused the same way, and reading goes on after it.
final class CSVRecordReader {
    struct Record {
        var cells: [String]
        /// Its first physical line, 1-based.
        var line: Int
        /// The record's bytes, without the line break that ends it; valid during the call.
        /// For a record that is too long, its first bytes only.
        var text: UnsafeRawBufferPointer
        /// What is wrong with the record as CSV: the cell (0-based), and why.
        var problem: (cell: Int?, message: String)?
        /// Whether the record was longer than `maxRecordBytes` (`text` is then its first bytes).
        var isTooLong = false
    }

    let path: String
    let totalBytes: Int?
    let maxRecordBytes: Int
    /// The physical lines read so far (those of every record given out).
    private(set) var lineNumber = 0
    var bytesRead: Int { stream.released }
    private let stream: RecordStream
    private var reader: CSVReader

    /// `blockSize`: how much is read at a time (tests make it small, to cut records and
    /// characters at every place).
    init(path: String, blockSize: Int = 1 << 20, maxRecordBytes: Int = .max) throws {
        stream = try RecordStream(path: path, blockSize: blockSize, maxRecordBytes: maxRecordBytes)
        self.path = stream.path
        totalBytes = stream.totalBytes
        self.maxRecordBytes = stream.maxRecordBytes
        reader = try Self.parser(over: stream)
    }

    private static func parser(over stream: RecordStream) throws -> CSVReader {
        do {
            return try CSVReader(stream: stream)
        } catch {
            throw stream.failure ?? CSVInputFailure(path: stream.path, line: nil, message: "cannot be read as CSV (\(error))")
        }
    }

    var tooLongMessage: String { "record is longer than \(maxRecordBytes) bytes (--max-line-bytes)" }

    /// Calls `body` with the next record; returns `nil` at the end of the input.
    func next<R>(_ body: (Record) throws -> R) throws -> R? {
        let row = reader.next()
        // (CSV.swift reports a read error as the end of the input; the stream kept it.)
        if let failure = stream.failure { throw failure }
        if stream.isOverlong {
            // The parser was cut off inside a record too long to keep: what it made of it is
            // dropped, the rest of the record skipped, and a new parser starts after it.
            let line = lineNumber + 1
            let (kept, lines) = stream.skipOverlongRecord(keeping: LineReader.keptBytes)
            if let failure = stream.failure { throw failure }
            lineNumber += lines
            reader = try Self.parser(over: stream)
            // (The parser dropped closes its stream as it goes: the new one reads on.)
            stream.open()
            return try kept.withUnsafeBytes { text in
                try body(Record(cells: [], line: line, text: text, problem: (nil, tooLongMessage), isTooLong: true))
            }
        }
        if let error = reader.error {
            throw CSVInputFailure(path: path, line: lineNumber + 1, message: "cannot be read as CSV (\(error))")
        }
        guard let cells = row else { return nil }
        let breaksInside = cells.reduce(0) { $0 + Self.lineBreaks(in: $1) }
        let (textEnd, nextRecord) = stream.recordEnd(breaksInside: breaksInside)
        let text = stream.bytes(from: stream.recordStart, to: textEnd)
        let line = lineNumber + 1
        lineNumber += breaksInside + 1
        defer { stream.release(upTo: nextRecord) }
        if text.count > maxRecordBytes {
            let kept = UnsafeRawBufferPointer(rebasing: text.prefix(LineReader.characterPrefix(text, atMost: LineReader.keptBytes)))
            return try body(Record(cells: [], line: line, text: kept, problem: (nil, tooLongMessage), isTooLong: true))
        }
        let problem = Self.notUTF8(text, line: line) ?? Self.quotingProblem(text, cells: cells)
        return try body(Record(cells: cells, line: line, text: text, problem: problem))
    }

    /// Line breaks as the parser counts them: LF, CRLF, or a lone CR.
    static func lineBreaks(in cell: String) -> Int {
        var count = 0
        var afterCR = false
        for byte in cell.utf8 {
            if byte == 0x0A {
                if !afterCR { count += 1 }
                afterCR = false
            } else {
                afterCR = byte == 0x0D
                if afterCR { count += 1 }
            }
        }
        return count
    }

    /// The first byte of `text` that is not UTF-8, as a problem naming its line and byte.
    /// (The parser was given a `?` in its place, which must not be stored as if it were text.)
    static func notUTF8(_ text: UnsafeRawBufferPointer, line: Int) -> (cell: Int?, message: String)? {
        var index = 0
        var line = line
        var lineStart = 0
        while index < text.count {
            let byte = text[index]
            if byte < 0x80 {
                if byte == 0x0A || (byte == 0x0D && (index + 1 == text.count || text[index + 1] != 0x0A)) {
                    line += 1
                    lineStart = index + 1
                }
                index += 1
                continue
            }
            guard let length = RecordStream.sequenceLength(text.baseAddress! + index, available: text.count - index), length > 0 else {
                let hex = String(byte, radix: 16, uppercase: true)
                return (nil, "byte 0x\(hex) at line \(line), byte \(index - lineStart + 1) is not UTF-8 (export the file as UTF-8 CSV)")
            }
            index += length
        }
        return nil
    }

    /// Whether the cells are what `text` says under RFC 4180; CSV.swift accepts some broken
    /// quoting (`"a"b`, an unclosed quote) and drops characters to do it.
    static func quotingProblem(_ text: UnsafeRawBufferPointer, cells: [String]) -> (cell: Int?, message: String)? {
        let quote = UInt8(ascii: "\"")
        var p = 0
        for (index, cell) in cells.enumerated() {
            if index > 0 {
                guard p < text.count, text[p] == UInt8(ascii: ",") else { return (index - 1, "cannot be read as CSV") }
                p += 1
            }
            guard p < text.count, text[p] == quote else {
                for byte in cell.utf8 {
                    guard p < text.count, text[p] == byte else { return (index, "cannot be read as CSV") }
                    p += 1
                }
                continue
            }
            p += 1
            for byte in cell.utf8 {
                guard p < text.count else { return (index, "the quoted cell is not closed") }
                guard text[p] == byte else { return (index, "cannot be read as CSV") }
                p += 1
                if byte == quote {
                    guard p < text.count, text[p] == quote else {
                        return (index, "a quoted cell must end with a quote before a comma or the end of the line (a quote inside it is written \"\")")
                    }
                    p += 1
                }
            }
            guard p < text.count else { return (index, "the quoted cell is not closed") }
            guard text[p] == quote else { return (index, "cannot be read as CSV") }
            p += 1
        }
        return p == text.count ? nil : (cells.count - 1, "cannot be read as CSV")
    }
}

/// The input as CSV.swift reads it: an `InputStream` over a file descriptor that keeps every
/// byte from the start of the record being read (`recordStart`) until it is released, so that
/// the record's text can be given with its cells. A UTF-8 byte order mark is skipped; bytes
/// that are not UTF-8 reach the parser as `?` (its decoder would end the input there), and the
/// record holding them is refused.
final class RecordStream: InputStream {
    let path: String
    let totalBytes: Int?
    /// The longest record handed to the parser whole; see `isOverlong`.
    let maxRecordBytes: Int
    private(set) var failure: CSVInputFailure?
    /// Whether the record being read passed `maxRecordBytes`: the parser is then told the
    /// input has ended, and `skipOverlongRecord` must be called.
    private(set) var isOverlong = false

    private let input: System.InputFile
    private var buffer: UnsafeMutableRawBufferPointer
    /// The input's offset of `buffer[0]`.
    private var base = 0
    /// Where the record being read starts: the bytes from here on are kept.
    private(set) var recordStart = 0
    /// The bytes before this were handed to the parser.
    private var handed = 0
    /// The bytes before this (and from `handed`) were checked to be UTF-8.
    private var checked = 0
    private var end = 0
    private var eof = false
    private var status: Stream.Status = .notOpen

    init(path: String, blockSize: Int = 1 << 20, maxRecordBytes: Int = .max) throws {
        // (Past a TiB, no limit: and no overflow in the arithmetic on it.)
        self.maxRecordBytes = min(max(maxRecordBytes, 1), 1 << 40)
        do {
            input = path == "-" ? System.InputFile(standardInputNamed: "<stdin>") : try System.InputFile(path: path)
        } catch {
            throw CSVInputFailure(path: path, line: nil, message: "cannot read it: \(System.describe(error.errno))")
        }
        self.path = input.path
        totalBytes = input.regularFileSize
        buffer = .allocate(byteCount: max(blockSize, 16), alignment: 16)
        super.init(data: Data())
        try skipByteOrderMark()
    }

    deinit {
        buffer.deallocate()
    }

    /// The input's bytes given out with records so far.
    var released: Int { base + recordStart }

    /// Skips a UTF-8 byte order mark (CRM and Excel exports start with one), or several (a
    /// file saved again by a tool that adds one): CSV.swift skips one at the start of what it
    /// is given, so a second one left to it would be missing from the cells but not from the
    /// record's text. Refuses UTF-16 and UTF-32, whose bytes would reach the parser as text
    /// with NULs between.
    private func skipByteOrderMark() throws {
        while end < 4 && fill() {}
        if let failure { throw failure }
        let start = Array(UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
        if start.starts(with: [0xFF, 0xFE]) || start.starts(with: [0xFE, 0xFF]) || start.starts(with: [0x00, 0x00, 0xFE, 0xFF]) {
            throw CSVInputFailure(path: path, line: nil, message: "is UTF-16 or UTF-32 text (it starts with that byte order mark); export it as UTF-8 CSV")
        }
        while true {
            while end - recordStart < 3 && fill() {}  // (`fill` may move the kept bytes to the front)
            if let failure { throw failure }
            guard end - recordStart >= 3, buffer[recordStart] == 0xEF, buffer[recordStart + 1] == 0xBB, buffer[recordStart + 2] == 0xBF
            else { return }
            recordStart += 3
            handed = recordStart
            checked = recordStart
        }
    }

    // MARK: InputStream, as CSV.swift's BinaryReader uses it

    override func open() { status = .open }
    override func close() { status = .closed }
    override var streamStatus: Stream.Status { status }
    override var streamError: (any Error)? { failure }
    override var hasBytesAvailable: Bool { !passedMaxRecordBytes() && (handed < end || fill()) }

    /// Whether the parser, asking for more, has used all of the `maxRecordBytes` + 3 bytes of
    /// its record it may have without ending it: its text is then at least `maxRecordBytes`
    /// + 2 bytes long. (It asks only once it has used every byte handed. A record of at most
    /// `maxRecordBytes` bytes ends within them, its CRLF included; so does the look at the
    /// byte after a lone CR.)
    private func passedMaxRecordBytes() -> Bool {
        if !isOverlong && handed - recordStart >= maxRecordBytes + 3 { isOverlong = true }
        return isOverlong
    }

    override func getBuffer(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, length len: UnsafeMutablePointer<Int>) -> Bool {
        false
    }

    override func read(_ destination: UnsafeMutablePointer<UInt8>, maxLength: Int) -> Int {
        if passedMaxRecordBytes() { return 0 }
        let maxLength = min(maxLength, recordStart + maxRecordBytes + 3 - handed)
        var written = 0
        while written < maxLength {
            if handed == end, written > 0 || !fill() { break }
            if handed < checked {
                let count = min(checked - handed, maxLength - written)
                (destination + written).update(from: buffer.baseAddress!.advanced(by: handed).assumingMemoryBound(to: UInt8.self), count: count)
                handed += count
                written += count
                continue
            }
            // ASCII runs go as they are; each longer sequence is checked once.
            var run = handed
            while run < end && run - handed < maxLength - written && buffer[run] < 0x80 { run += 1 }
            if run > handed {
                checked = run
                continue
            }
            switch Self.sequenceLength(buffer.baseAddress! + handed, available: end - handed) {
            case let length? where length > 0:
                checked = handed + length
            case nil where !eof:
                // (A sequence cut by the end of what was read: read on before deciding.)
                if written > 0 { return written }
                if !fill() && failure != nil { return -1 }
            default:
                destination[written] = UInt8(ascii: "?")
                written += 1
                handed += 1
                checked = handed
            }
        }
        if written == 0 && failure != nil { return -1 }
        return written
    }

    /// The length of the UTF-8 sequence at `bytes`: 0 if it is not UTF-8, `nil` if it may
    /// be but is cut short by `available`.
    static func sequenceLength(_ bytes: UnsafeRawPointer, available: Int) -> Int? {
        let lead = bytes.load(as: UInt8.self)
        if lead < 0x80 { return 1 }
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xE1...0xEF: length = 3
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return 0
        }
        for offset in 1..<length {
            guard offset < available else { return nil }
            let byte = bytes.load(fromByteOffset: offset, as: UInt8.self)
            guard (offset == 1 ? second : 0x80...0xBF).contains(byte) else { return 0 }
        }
        return length
    }

    // MARK: Records

    /// Where the record at `recordStart` ends, when `breaksInside` line breaks are inside its
    /// cells: the end of its text, and where the next record starts. The parser has read at
    /// least up to the line break that ends it, unless the input ended first.
    func recordEnd(breaksInside: Int) -> (textEnd: Int, next: Int) {
        var remaining = breaksInside
        var index = recordStart
        while index < end {
            let byte = buffer[index]
            guard byte == 0x0A || byte == 0x0D else {
                index += 1
                continue
            }
            let lineBreak = index
            index += byte == 0x0D && index + 1 < end && buffer[index + 1] == 0x0A ? 2 : 1
            if remaining == 0 { return (lineBreak, index) }
            remaining -= 1
        }
        return (end, end)
    }

    func bytes(from start: Int, to end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }

    /// Lets go of the bytes before `index` (a record was given out).
    func release(upTo index: Int) {
        recordStart = index
    }

    /// After `isOverlong`: keeps the first `keeping` bytes of the record (not cutting a
    /// character), reads past the rest of it to its first line break at or past
    /// `maxRecordBytes` bytes (those before are inside its quoted cells), or to the end of
    /// the input, keeping nothing, and starts the next record after that line break, to be
    /// read by a new parser. Returns the kept bytes and how many lines the record took.
    func skipOverlongRecord(keeping: Int) -> (kept: [UInt8], lines: Int) {
        // The record's own bytes, up to the line break where reading resumes (a few past
        // `keeping`, to cut on a character boundary): the same whatever the read size.
        var collected: [UInt8] = []
        var index = recordStart
        var offset = 0
        var lines = 0
        var lastWasCR = false
        var endsAtCR = false
        var ended = false
        scan: while true {
            while index < end {
                let byte = buffer[index]
                if endsAtCR {
                    // (An LF right after the CR that ends the record is part of its line break.)
                    if byte == 0x0A { index += 1 }
                    ended = true
                    break scan
                }
                index += 1
                offset += 1
                let isLineBreak = byte == 0x0D || (byte == 0x0A && !lastWasCR)
                lastWasCR = byte == 0x0D
                let ends = isLineBreak && offset > maxRecordBytes
                if !ends && collected.count < keeping + 4 { collected.append(byte) }
                guard isLineBreak else { continue }
                lines += 1
                guard ends else { continue }
                if byte == 0x0D {
                    endsAtCR = true
                } else {
                    ended = true
                    break scan
                }
            }
            // Nothing read so far is kept: let it all go, then read on.
            recordStart = end
            handed = end
            checked = end
            guard fill() else { break }
            index = recordStart
        }
        let kept = collected.withUnsafeBytes { Array(collected.prefix(LineReader.characterPrefix($0, atMost: keeping))) }
        if !ended && !endsAtCR { lines += 1 }  // (the record's last line, ended by the input's end)
        recordStart = index
        handed = index
        checked = index
        isOverlong = false
        return (kept, lines)
    }

    /// Reads more input after `end`, first moving the bytes kept to the front (and doubling
    /// the buffer if they fill it). `false` at the end of the input or on an error (`failure`).
    private func fill() -> Bool {
        guard !eof else { return false }
        if recordStart > 0 {
            let kept = end - recordStart
            if kept > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + recordStart, byteCount: kept) }
            base += recordStart
            handed -= recordStart
            checked -= recordStart
            end = kept
            recordStart = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let count: Int
        do {
            count = try input.read(into: buffer.baseAddress! + end, count: buffer.count - end)
        } catch {
            failure = CSVInputFailure(path: path, line: nil, message: "cannot read it: \(System.describe(error.errno))")
            eof = true
            return false
        }
        if count == 0 {
            eof = true
            return false
        }
        end += count
        return true
    }
}
