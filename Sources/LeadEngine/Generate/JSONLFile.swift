import LeadDomain
import LedgerJSON

import LedgerSystem

extension Generator {
    /// Writes the generated events as JSONL to `path` (`/dev/stdout` works), through a 1 MiB
    /// buffer, stopping after `limit` events if given. `progress` is called with the count
    /// after every flush. Returns how many events were written.
    @discardableResult
    public func write(to path: String, limit: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> Int {
        let file = try System.OutputFile(creating: path)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 21)
        func flush() throws {
            try file.write(buffer)
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
        try file.close()
        return count
    }
}
