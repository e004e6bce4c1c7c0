import Foundation
import LeadDomain
import Logging
import Synchronization

/// The server's log lines on standard error, written by a thread of their own a few times a
/// second instead of one `write` per line by the thread that logs: with a request log, that
/// write was an eighth of the server's CPU time under load. Errors and worse are written at
/// once, with everything before them; `flush()` writes the rest (at shutdown).
///
/// A line: `2026-03-01T10:15:00.250Z info leadledger: request method=POST ms=0.41 path=/v1/events status=200`,
/// with the metadata sorted by key.
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: Output

    public init(label: String, output: Output) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // (Written as bytes: formatting the request log's line through string interpolation
        // was a twentieth of a one-event request's time.)
        var line: [UInt8] = []
        line.reserveCapacity(192)
        Output.timestamp().writeRFC3339(into: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: label.utf8)
        line.append(contentsOf: ": ".utf8)
        line.append(contentsOf: event.message.description.utf8)
        var all = metadata
        if let more = event.metadata {
            if all.isEmpty { all = more } else { all.merge(more) { _, new in new } }
        }
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            line.append(contentsOf: value.description.utf8)
        }
        line.append(UInt8(ascii: "\n"))
        output.append(line, now: event.level >= .error)
    }

    /// Where the lines wait for their write.
    public final class Output: Sendable {
        private let pending = Mutex<[UInt8]>([])
        private let wake = DispatchSemaphore(value: 0)
        private let write: @Sendable (Data) -> Void

        /// Standard error, or what `write` does with each block of lines (tests).
        public init(interval: Duration = .milliseconds(200), write: @escaping @Sendable (Data) -> Void = { FileHandle.standardError.write($0) }) {
            self.write = write
            let thread = Thread { [weak self, wake] in
                while true {
                    _ = wake.wait(timeout: .now() + .milliseconds(Int(interval / .milliseconds(1))))
                    guard let self else { return }
                    self.flush()
                }
            }
            thread.name = "ll-log"
            thread.start()
        }

        func append(_ line: [UInt8], now: Bool) {
            let large = pending.withLock { bytes -> Bool in
                bytes.append(contentsOf: line)
                return bytes.count >= 1 << 16
            }
            if now { flush() } else if large { wake.signal() }
        }

        /// Writes every line logged so far.
        public func flush() {
            // (The lock is held across the write so that lines keep their order.)
            pending.withLock { bytes in
                guard !bytes.isEmpty else { return }
                write(Data(bytes))
                bytes.removeAll(keepingCapacity: true)
            }
        }

        /// The time to the millisecond, in UTC.
        static func timestamp() -> Timestamp {
            Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1000) * 1000)
        }
    }
}
