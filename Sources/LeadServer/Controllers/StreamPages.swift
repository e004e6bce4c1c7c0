import Hummingbird
import LeadDomain
import Synchronization

/// The live tail of the log as encoded pages, shared by the streams that read it: streams
/// at the head are all woken by the same commit and all read the same page from the same
/// position, so it is read and encoded once rather than once a subscriber (100 subscribers
/// at 10,000 events/s would otherwise encode a million events a second). Only pages that
/// reached the head (shorter than a full page) are kept: a stream catching up reads its own.
final class StreamPages: Sendable {
    struct Key: Hashable {
        var after: UInt64
        var typePrefix: String?
        var sse: Bool
    }

    struct Page: Sendable {
        /// The encoded events (empty when the filter kept none).
        var bytes: ByteBuffer
        var events: Int
        var scannedThrough: UInt64
        /// When its oldest event was recorded (its group commit), for the delivery lag.
        var oldestRecordedAt: Timestamp?
    }

    private struct State {
        var pages: [Key: Page] = [:]
        var order: [Key] = []
        var bytes = 0
    }

    private let state = Mutex(State())
    /// A bound on what the tail holds; the oldest pages go first.
    static let maxPages = 64
    static let maxBytes = 16 << 20

    /// The page after `key.after`, from the tail or made by `read` (and kept if it is short).
    func page(_ key: Key, full: Int, read: () throws -> Page) rethrows -> Page {
        if let page = state.withLock({ $0.pages[key] }) { return page }
        let page = try read()
        // A page that reached nothing new (the stream is at the head) is not kept: the next
        // read after the same position must see the commits that land meanwhile.
        guard page.events < full, page.scannedThrough > key.after else { return page }
        state.withLock { state in
            guard state.pages[key] == nil else { return }
            state.pages[key] = page
            state.order.append(key)
            state.bytes += page.bytes.readableBytes
            while state.order.count > Self.maxPages || state.bytes > Self.maxBytes, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                state.bytes -= state.pages.removeValue(forKey: oldest)?.bytes.readableBytes ?? 0
            }
        }
        return page
    }
}
