import FuzzSupport
import LeadDomain
import LeadEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CSV ingest reader (`CSVEventReader` over `CSVRecordReader` and CSV.swift) on any bytes
/// given as a file: no crash, no hang, and the same events, line numbers, record texts and
/// failure whether the file is read in one block or in small ones (which cut records and
/// UTF-8 sequences at every place); and so too with a small limit on a record's length
/// (`maxRecordBytes`, where a record too long is refused whatever the read sizes).
let path = "/tmp/leadledger-fuzz-csv-\(getpid()).csv"

struct Row: Equatable {
    var event: Result<Envelope, EnvelopeError>
    var line: Int
    var text: [UInt8]
    var tooLong: Bool
}

struct Read: Equatable {
    var rows: [Row] = []
    var failure: String?
    var lineNumber = 0
    var bytesRead = 0
}

func read(blockSize: Int, maxRecordBytes: Int = .max) -> Read {
    var read = Read()
    do {
        let reader = try CSVEventReader(path: path, maxRecordBytes: maxRecordBytes, blockSize: blockSize)
        while try reader.forEachEvent({ event, line, text in
            read.rows.append(Row(event: event, line: line, text: Array(text), tooLong: reader.recordIsTooLong))
            return read.rows.count % 3 != 0  // stop and go on now and then, as ingest does per batch
        }) {}
        read.lineNumber = reader.lineNumber
        read.bytesRead = reader.bytesRead
    } catch {
        read.failure = "\(error)"
    }
    return read
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard file >= 0 else { fatalError("cannot write \(path)") }
    var written = 0
    while written < size {
        let count = write(file, data + written, size - written)
        guard count > 0 else { fatalError("cannot write \(path)") }
        written += count
    }
    close(file)
    let whole = read(blockSize: 1 << 16)  // (more than -max_len: the whole input in one read)
    let blockSize = 16 + size % 48
    let small = read(blockSize: blockSize)
    guard small == whole else {
        unlink(path)
        finding("read in blocks of \(blockSize) bytes:\n\(small)\nin one block:\n\(whole)", input: input)
    }
    let limit = 8 + size % 120
    let limitedWhole = read(blockSize: 1 << 16, maxRecordBytes: limit)
    let limitedSmall = read(blockSize: blockSize, maxRecordBytes: limit)
    unlink(path)
    guard limitedSmall == limitedWhole else {
        finding("records of at most \(limit) bytes, read in blocks of \(blockSize) bytes:\n\(limitedSmall)\nin one block:\n\(limitedWhole)", input: input)
    }
    if whole.failure == nil, whole.bytesRead != size {
        finding("read \(whole.bytesRead) of \(size) bytes", input: input)
    }
    return 0
}
