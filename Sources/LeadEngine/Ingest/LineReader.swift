import LedgerSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor line by line in large blocks, handing out each line as bytes
/// (without its `\n` or `\r\n`) with its 1-based number. Memory stays at about one block,
/// whatever the input's size.
public final class LineReader {
    public var path: String { input.path }
    private let input: System.InputFile
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false
    public private(set) var lineNumber = 0
    /// Bytes consumed so far (for progress).
    public private(set) var bytesRead = 0
    /// The file's size when known (regular files), for progress.
    public let totalBytes: Int?

    /// Opens `path`, or standard input for `-`.
    public init(path: String, blockSize: Int = 1 << 20) throws {
        input = path == "-" ? System.InputFile(standardInputNamed: "<stdin>") : try System.InputFile(path: path)
        totalBytes = input.regularFileSize
        buffer = .allocate(byteCount: blockSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// Calls `body` with the next line; returns `false` at the end of the input. The bytes
    /// are valid only during the call.
    public func nextLine<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        while true {
            if start < end, let newline = memchr(buffer.baseAddress! + start, 0x0A, end - start) {
                let lineEnd = buffer.baseAddress!.distance(to: newline)
                let line = trimCR(start, lineEnd)
                bytesRead += lineEnd + 1 - start
                start = lineEnd + 1
                lineNumber += 1
                return try body(line)
            }
            if eof {
                guard start < end else { return nil }
                let line = trimCR(start, end)
                bytesRead += end - start
                start = end
                lineNumber += 1
                return try body(line)
            }
            try fill()
        }
    }

    /// Calls `body` with each line in turn, for as long as it returns `true`; returns `false`
    /// once the input has ended. One closure for many lines: a closure made for each line
    /// (`nextLine`) retains and releases what it captures every time.
    public func forEachLine(_ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        while true {
            guard let goOn = try nextLine(body) else { return false }
            if !goOn { return true }
        }
    }

    private func trimCR(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
        var to = to
        if to > from, buffer[to - 1] == 0x0D { to -= 1 }
        return UnsafeRawBufferPointer(rebasing: buffer[from..<to])
    }

    private func fill() throws {
        // Move the partial line to the front; grow the buffer if a single line fills it.
        if start > 0 {
            let pending = end - start
            if pending > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pending) }
            start = 0
            end = pending
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let count = try input.read(into: buffer.baseAddress! + end, count: buffer.count - end)
        if count == 0 { eof = true }
        end += count
    }
}
