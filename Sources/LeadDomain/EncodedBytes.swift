#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encoded values appended one after another into one growing buffer, each known by its byte
/// range: a commit's or a replay chunk's rows (a lead's key, state and journey), or an ingest
/// batch's lines, without an array each. (An array a row cost an allocation, then a free on the writer's thread: a few
/// percent of a replay.)
///
/// Appending may move the buffer: read ranges (`subscript`) once the appends are done.
/// Not thread-safe: one thread appends, then one reads (after a hand-over that orders them).
public final class EncodedBytes: @unchecked Sendable {
    @exclusivity(unchecked) private var base: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) public private(set) var count = 0

    public init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        base = Self.allocate(self.capacity)
    }

    deinit {
        free(base)
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard let memory = malloc(bytes) else { fatalError("out of memory (\(bytes) bytes)") }
        return memory
    }

    /// The bytes of an appended value (valid until the next append).
    public subscript(range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "a range beyond the encoded bytes")
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Forgets every value, keeping the memory for the next ones.
    public func removeAll() {
        count = 0
    }

    /// Appends `bytes` as they are.
    public func append(_ bytes: UnsafeRawBufferPointer) -> Range<Int> {
        append(most: bytes.count) { $0.append(bytes: bytes) }
    }

    /// Appends what `body` writes, at most `most` bytes (going past them is a bug, caught
    /// before any byte lands outside).
    func append(most: Int, _ body: (inout ReservedBytes) -> Void) -> Range<Int> {
        reserve(most)
        var out = ReservedBytes(UnsafeMutableRawBufferPointer(start: base + count, count: most))
        body(&out)
        let range = count..<count + out.count
        count += out.count
        return range
    }

    private func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        let wanted = max(2 * capacity, count + more)
        guard let grown = realloc(base, wanted) else { fatalError("out of memory (\(wanted) bytes)") }
        base = grown
        capacity = wanted
    }
}
