import LedgerSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor line by line in large blocks, handing out each line as bytes
/// (without its `\n` or `\r\n`) with its 1-based number. Memory stays at about one block,
/// whatever the input's size, and at most about twice `maxLineBytes`, whatever its lines'
/// lengths: a longer line is handed out as its first `keptBytes` only (`lineIsTooLong`), and
/// the rest of it is read past without being kept — a line that never ends (`/dev/zero`)
/// is read for ever in constant memory.
public final class LineReader {
    /// How much of a line longer than `maxLineBytes` is handed out: enough to recognise it.
    public static let keptBytes = 1024
    public var path: String { input.path }
    private let input: System.InputFile
    @exclusivity(unchecked) private var buffer: UnsafeMutableRawBufferPointer
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var eof = false
    @exclusivity(unchecked) public private(set) var lineNumber = 0
    /// Bytes consumed so far (for progress).
    @exclusivity(unchecked) public private(set) var bytesRead = 0
    /// The file's size when known (regular files), for progress.
    public let totalBytes: Int?
    /// The longest line handed out whole, in bytes (without its line end).
    public let maxLineBytes: Int
    /// Whether the line being handed out was longer than `maxLineBytes`: it is then its first
    /// bytes only, at most `keptBytes` and cut at a character's start.
    @exclusivity(unchecked) public private(set) var lineIsTooLong = false
    /// The bytes kept of the last line that was too long.
    @exclusivity(unchecked) private var keptPrefix: [UInt8] = []

    /// Opens `path`, or standard input for `-`.
    public init(path: String, blockSize: Int = 1 << 20, maxLineBytes: Int = .max) throws {
        input = path == "-" ? System.InputFile(standardInputNamed: "<stdin>") : try System.InputFile(path: path)
        totalBytes = input.regularFileSize
        buffer = .allocate(byteCount: max(blockSize, 16), alignment: 16)
        self.maxLineBytes = max(maxLineBytes, 1)
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
                return try hand(line, body)
            }
            if eof {
                guard start < end else { return nil }
                let line = trimCR(start, end)
                bytesRead += end - start
                start = end
                lineNumber += 1
                return try hand(line, body)
            }
            // No line end yet, and more than the longest line (and a CR) is waiting: the
            // line is too long, whatever follows.
            if end - start - 1 > maxLineBytes { return try skipLongLine(body) }
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

    /// Hands `line` to `body`, or its first bytes if it is too long.
    @inline(__always)
    private func hand<R>(_ line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard line.count > maxLineBytes else {
            lineIsTooLong = false
            return try body(line)
        }
        lineIsTooLong = true
        return try body(UnsafeRawBufferPointer(rebasing: line.prefix(Self.characterPrefix(line, atMost: Self.keptBytes))))
    }

    /// Keeps the first bytes of the line at `start`, which is longer than `maxLineBytes`, then
    /// reads past the rest of it (to its `\n` or the end of the input) a block at a time,
    /// keeping nothing, and hands the kept bytes to `body` as the line.
    private func skipLongLine<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let waiting = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        keptPrefix.removeAll(keepingCapacity: true)
        keptPrefix.append(contentsOf: waiting.prefix(Self.characterPrefix(waiting, atMost: Self.keptBytes)))
        while true {
            if start < end, let newline = memchr(buffer.baseAddress! + start, 0x0A, end - start) {
                let next = buffer.baseAddress!.distance(to: newline) + 1
                bytesRead += next - start
                start = next
                break
            }
            bytesRead += end - start
            start = end
            if eof { break }
            try fill()
        }
        lineNumber += 1
        lineIsTooLong = true
        return try keptPrefix.withUnsafeBytes { try body($0) }
    }

    /// The length of the longest prefix of `bytes` of at most `limit` bytes that does not cut
    /// a UTF-8 sequence (it ends before a byte that is not a continuation byte).
    static func characterPrefix(_ bytes: UnsafeRawBufferPointer, atMost limit: Int) -> Int {
        guard bytes.count > limit else { return bytes.count }
        var length = limit
        // (At most three continuation bytes follow a sequence's first byte.)
        while length > 0 && length > limit - 3 && bytes[length] & 0xC0 == 0x80 { length -= 1 }
        return length
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
