import Hummingbird

/// How a stream ended, and so what its last message says.
enum StreamEnd: Sendable {
    case serverStopping
    case fellBehind
}

/// A stream's last message stayed in its consumer's buffer past the stall timeout: the
/// connection is closed instead (the consumer resumes after the last event it has).
struct StreamStalled: Error {}

/// The response body's writer, shared by the stream's loop (a child task, so that the
/// watchdog can cancel a write the consumer does not drain: NIO's writer then drops it) and
/// the last message after it. Unchecked: Hummingbird's writer writes to NIO's outbound
/// writer, which is Sendable, though its protocol does not say so; one task at a time uses
/// it (the loop, then the last message once the loop has ended).
final class StreamBody: @unchecked Sendable {
    private var writer: any ResponseBodyWriter
    private let subscriber: StreamSubscriber

    init(_ writer: any ResponseBodyWriter, subscriber: StreamSubscriber) {
        self.writer = writer
        self.subscriber = subscriber
    }

    /// Writes `buffer`; suspends while the consumer's socket and NIO's write buffer are full
    /// (its high-water mark), which the watchdog sees.
    func write(_ buffer: ByteBuffer) async throws {
        subscriber.writeBegins()
        defer { subscriber.writeEnds() }
        try await writer.write(buffer)
    }

    /// Writes `message` and ends the body, unless the consumer leaves it in the buffer for
    /// longer than `timeout`: then `StreamStalled`, and Hummingbird closes the connection.
    func finish(with message: String, within timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.writer.write(ByteBuffer(string: message))
                let writer = self.writer
                try await writer.finish(nil)
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let written = try await group.next() ?? false
            group.cancelAll()
            if !written { throw StreamStalled() }
        }
    }

    /// Returns once `subscriber` has fallen behind (see `StreamSubscriber.fellBehind`); checks
    /// four times a stall timeout.
    static func watch(_ subscriber: StreamSubscriber, signal: CommitSignal, limits: ServerConfiguration.Limits) async throws {
        let interval = limits.streamStallTimeout / 4
        while true {
            try await Task.sleep(for: interval)
            if subscriber.fellBehind(head: signal.head, maxLag: limits.streamMaxLag, stall: limits.streamStallTimeout) { return }
        }
    }

    /// The last message: why the stream ends and the position to resume after (`after=` or
    /// `Last-Event-ID`).
    static func lastMessage(_ end: StreamEnd, resumeAfter position: UInt64, sse: Bool) -> String {
        switch (end, sse) {
        case (.serverStopping, true):
            "event: end\ndata: {\"reason\":\"the server is stopping\",\"resumeAfter\":\(position)}\n\n"
        case (.serverStopping, false):
            "{\"end\":\"the server is stopping\",\"resumeAfter\":\(position)}\n"
        case (.fellBehind, true):
            "event: error\ndata: {\"error\":\"the consumer fell behind\",\"resumeAfter\":\(position)}\n\n"
        case (.fellBehind, false):
            "{\"error\":\"the consumer fell behind\",\"resumeAfter\":\(position)}\n"
        }
    }
}
