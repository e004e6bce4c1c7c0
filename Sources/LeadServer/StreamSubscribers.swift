import Dispatch
import Synchronization

/// One open `/v1/stream`: how far its consumer has taken the log, and whether a write to it
/// is waiting for its socket to drain. Shared by the stream's loop, its watchdog and
/// `/metrics`, hence atomics.
final class StreamSubscriber: Sendable {
    /// The position through which the stream was handed to the consumer's socket: where a
    /// consumer that is let go resumes.
    let delivered: Atomic<UInt64>
    /// Set once the consumer has fallen behind: the stream ends after the write in progress.
    let letGo = Atomic<Bool>(false)
    /// When the write in progress began (monotonic nanoseconds); 0 when none is waiting.
    private let writingSince = Atomic<UInt64>(0)

    init(after position: UInt64) {
        delivered = Atomic(position)
    }

    func writeBegins() { writingSince.store(max(1, Self.now()), ordering: .relaxed) }
    func writeEnds() { writingSince.store(0, ordering: .relaxed) }

    /// More than `maxLag` positions behind `head` while a write has waited longer than
    /// `stall`: the consumer reads slower than the log grows, or not at all. A consumer that
    /// is far behind but reading (catching up from the log) is not behind in this sense, nor
    /// is one that stopped reading while little was appended: either costs the server no
    /// more than its bounded buffer.
    func fellBehind(head: UInt64, maxLag: UInt64, stall: Duration) -> Bool {
        let since = writingSince.load(ordering: .relaxed)
        guard since != 0, head > delivered.load(ordering: .relaxed) + maxLag else { return false }
        let (seconds, attoseconds) = stall.components
        let stallNanos = UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
        return Self.now() &- since > stallNanos
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// The open streams, for their count and their lag in `/metrics`.
final class StreamSubscribers: Sendable {
    private let open = Mutex<[ObjectIdentifier: StreamSubscriber]>([:])

    func add(_ subscriber: StreamSubscriber) {
        open.withLock { $0[ObjectIdentifier(subscriber)] = subscriber }
    }

    func remove(_ subscriber: StreamSubscriber) {
        open.withLock { $0[ObjectIdentifier(subscriber)] = nil }
    }

    /// The most positions any open stream is behind `head` (0 with none open).
    func maxLag(head: UInt64) -> UInt64 {
        open.withLock { open in
            open.values.reduce(0) { lag, subscriber in
                let delivered = subscriber.delivered.load(ordering: .relaxed)
                return max(lag, head > delivered ? head - delivered : 0)
            }
        }
    }
}
