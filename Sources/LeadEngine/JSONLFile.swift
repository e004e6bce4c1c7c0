import LeadDomain
import LedgerJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be written (the rejects file, a generated data set).
public struct FileWriteFailure: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
}

extension Generator {
    /// Writes the generated events as JSONL to `path` (`/dev/stdout` works), through a 1 MiB
    /// buffer, stopping after `limit` events if given. `progress` is called with the count
    /// after every flush. Returns how many events were written.
    @discardableResult
    public func write(to path: String, limit: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> Int {
        guard let file = fopen(path, "w") else { throw FileWriteFailure(path: path, errno: errno) }
        defer { fclose(file) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        func flush() throws {
            guard fwrite(buffer, 1, buffer.count, file) == buffer.count else {
                throw FileWriteFailure(path: path, errno: errno)
            }
            buffer.removeAll(keepingCapacity: true)
        }
        var count = 0
        struct Enough: Error {}
        do {
            try generate { event in
                if let limit, count >= limit { throw Enough() }
                JSONWriter.write(event.json, into: &buffer)
                buffer.append(0x0A)
                count += 1
                if buffer.count > 1 << 20 {
                    try flush()
                    progress(count)
                }
            }
        } catch is Enough {}
        try flush()
        return count
    }
}
