import EventLog
import Foundation
import Hummingbird
import HTTPTypes
import LeadDomain
import LeadEngine
import LedgerJSON
import Prometheus
import ServiceLifecycle
import Synchronization

/// Wakes the log's followers when a commit lands (the log's commit observer), instead of
/// their polling.
final class CommitSignal: Sendable {
    private struct State {
        var head: UInt64
        var waiters: [Int: (after: UInt64, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    init(head: UInt64) {
        state = Mutex(State(head: head))
        // One ticker ends the waits that time out, rather than a timer task a wait: a cancelled
        // sleep keeps its timer until it would have fired, and 100 streams at the head wait
        // 10,000 times a second, which held ~150,000 timers (the heap grew by 7 MiB/s).
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self else { return }
                self.expireOverdue()
            }
        }
    }

    var head: UInt64 { state.withLock { $0.head } }

    /// A commit landed: the log's last position is `position`.
    func committed(through position: UInt64) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.head = max(state.head, position)
            let ready = state.waiters.filter { $0.value.after < state.head }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Wakes every follower (a graceful shutdown).
    func wakeAll() {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: false) }
    }

    /// Waits until the log goes past `after` or the task is cancelled (true), or `timeout`
    /// passes (false; up to a second late).
    func wait(after: UInt64, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let deadline = ContinuousClock.now + timeout
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.head > after || Task.isCancelled { return true }
                    state.waiters[id] = (after, deadline, continuation)
                    return false
                }
                if now { continuation.resume(returning: true) }
            }
        } onCancel: {
            // A stream whose consumer fell behind is cancelled while it may wait here.
            expire(id, woken: true)
        }
    }

    /// Ends the waits whose timeout passed (within a second of it).
    private func expireOverdue() {
        let now = ContinuousClock.now
        let overdue = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            let ids = state.waiters.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in overdue { continuation.resume(returning: false) }
    }

    private func expire(_ id: Int, woken: Bool = false) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: woken)
    }
}

/// `GET /v1/stream?after=P[&type=PREFIX]`: every stored event from position P+1 on, then
/// live as commits land — NDJSON, or Server-Sent Events with `Accept: text/event-stream`
/// (each event's `id` is its position, so `Last-Event-ID` resumes; a comment every 15 s keeps
/// idle connections open). Positions are the offsets. The stream reads the log on its own, a
/// page of at most `pageSize` events at a time, so a slow consumer never slows the writer and
/// the server holds at most one page for it beyond NIO's write buffer and the socket's. A
/// consumer that falls behind (`StreamSubscriber.fellBehind`) is let go, and a graceful
/// shutdown ends each stream, with a last message saying where to resume.
struct StreamController {
    let store: LeadStore
    let signal: CommitSignal
    let metrics: ServerMetrics
    let limits: ServerConfiguration.Limits
    let pages = StreamPages()
    static let heartbeat: Duration = .seconds(15)
    static let pageSize = 1_000

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("stream", use: stream)
    }

    @Sendable func stream(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let sse = request.headers[.accept]?.contains("text/event-stream") ?? false
        var after = try Query.integer(request, "after", in: 0...UInt64.max) ?? 0
        if let resume = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let position = UInt64(resume.trimmingCharacters(in: .whitespaces)) else {
                throw Problem(.badRequest, "Last-Event-ID \(resume) is not a position")
            }
            after = position
        }
        let typePrefix = Query.text(request, "type")
        let (store, signal, start, metrics, limits, pages) = (self.store, self.signal, after, self.metrics, self.limits, self.pages)
        let headers: HTTPFields = sse
            ? [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            : [.contentType: "application/x-ndjson", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let subscriber = StreamSubscriber(after: start)
            metrics.streams.increment()
            metrics.subscribers.add(subscriber)
            defer {
                metrics.streams.decrement()
                metrics.subscribers.remove(subscriber)
            }
            let body = StreamBody(writer, subscriber: subscriber)
            // Events recorded from now on are live for this stream: their delivery is timed.
            let opened = Timestamp.now
            let end = try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: StreamEnd.self) { group in
                    group.addTask {
                        var cursor = start
                        while !Task.isCancelled && !Task.isShuttingDownGracefully && !subscriber.letGo.load(ordering: .relaxed) {
                            let page = try pages.page(.init(after: cursor, typePrefix: typePrefix, sse: sse), full: Self.pageSize) {
                                var bytes: [UInt8] = []
                                bytes.reserveCapacity(Self.pageSize * 320)
                                var oldest: Timestamp?
                                let page = try store.scanStored(typePrefix: typePrefix, after: cursor, limit: Self.pageSize) { event in
                                    if oldest == nil { oldest = event.recordedAt }
                                    if sse {
                                        bytes.append(contentsOf: "id: ".utf8)
                                        JSONWriter.writeInteger(Int64(truncatingIfNeeded: event.position), into: &bytes)
                                        bytes.append(contentsOf: "\nevent: ".utf8)
                                        bytes.append(contentsOf: event.type.rawValue.utf8)
                                        bytes.append(contentsOf: "\ndata: ".utf8)
                                        try event.writeJSON(into: &bytes)
                                        bytes += [0x0A, 0x0A]
                                    } else {
                                        try event.writeJSON(into: &bytes)
                                        bytes.append(0x0A)
                                    }
                                }
                                return StreamPages.Page(
                                    bytes: ByteBuffer(bytes: bytes), events: page.count, scannedThrough: page.scannedThrough,
                                    oldestRecordedAt: oldest)
                            }
                            cursor = page.scannedThrough
                            if page.events > 0 {
                                try await body.write(page.bytes)
                                Self.recordDelivery(oldest: page.oldestRecordedAt, opened: opened, metrics: metrics)
                            }
                            subscriber.delivered.store(cursor, ordering: .relaxed)
                            if page.events < Self.pageSize {
                                let woken = await signal.wait(after: cursor, timeout: Self.heartbeat)
                                if !woken && sse { try await body.write(ByteBuffer(string: ": heartbeat\n\n")) }
                            }
                        }
                        return subscriber.letGo.load(ordering: .relaxed) ? .fellBehind : .serverStopping
                    }
                    group.addTask {
                        try await StreamBody.watch(subscriber, signal: signal, limits: limits)
                        // The stream ends once its stuck write goes out, and the last message
                        // follows the events already written; a consumer that does not read even
                        // then is cut off (its write cancelled) after more stall timeouts.
                        subscriber.letGo.store(true, ordering: .relaxed)
                        metrics.streamsFellBehind.increment()
                        try await Task.sleep(for: limits.streamStallTimeout * 3)
                        return .fellBehind
                    }
                    let end = try await group.next() ?? .serverStopping
                    group.cancelAll()
                    return end
                }
            } onGracefulShutdown: {
                signal.wakeAll()
            }
            // Where to resume, for a client whose stream the server ended.
            let resume = StreamBody.lastMessage(end, resumeAfter: subscriber.delivered.load(ordering: .relaxed), sse: sse)
            try await body.finish(with: resume, within: limits.streamStallTimeout)
        })
    }

    /// The delivery lag of a write, timed by its oldest event, if that was recorded while the
    /// stream was open (older ones are the stream catching up, not lag).
    private static func recordDelivery(oldest: Timestamp?, opened: Timestamp, metrics: ServerMetrics) {
        guard let oldest, oldest >= opened else { return }
        let microseconds = max(0, Timestamp.now.microseconds - oldest.microseconds)
        metrics.streamDelivery.record(.microseconds(microseconds))
    }
}
