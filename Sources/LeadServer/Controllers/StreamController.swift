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
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    init(head: UInt64) {
        state = Mutex(State(head: head))
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

    /// Waits until the log goes past `after` (true) or `timeout` passes (false).
    func wait(after: UInt64, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.head > after { return true }
                state.waiters[id] = (after, continuation)
                return false
            }
            if now { continuation.resume(returning: true) }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(returning: false)
    }
}

/// `GET /v1/stream?after=P[&type=PREFIX]`: every stored event from position P+1 on, then
/// live as commits land — NDJSON, or Server-Sent Events with `Accept: text/event-stream`
/// (each event's `id` is its position, so `Last-Event-ID` resumes; a comment every 15 s keeps
/// idle connections open). Positions are the offsets. The stream reads the log on its own,
/// so a slow consumer never slows the writer; a graceful shutdown ends each stream with a
/// last message saying where to resume.
struct StreamController {
    let store: LeadStore
    let signal: CommitSignal
    let metrics: ServerMetrics
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
        let (store, signal, start, metrics) = (self.store, self.signal, after, self.metrics)
        let headers: HTTPFields = sse
            ? [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            : [.contentType: "application/x-ndjson", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var cursor = start
            metrics.streams.increment()
            defer { metrics.streams.decrement() }
            try await withGracefulShutdownHandler {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(Self.pageSize * 320)
                    let page = try store.scanStored(typePrefix: typePrefix, after: cursor, limit: Self.pageSize) { event in
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
                    // A short page read through to the head.
                    let caughtUp = page.count < Self.pageSize
                    cursor = page.scannedThrough
                    if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
                    if caughtUp {
                        let woken = await signal.wait(after: cursor, timeout: Self.heartbeat)
                        if !woken && sse { try await writer.write(ByteBuffer(string: ": heartbeat\n\n")) }
                    }
                }
            } onGracefulShutdown: {
                signal.wakeAll()
            }
            // Where to resume, for a client whose stream the server ended.
            let resume = sse
                ? "event: end\ndata: {\"reason\":\"the server is stopping\",\"resumeAfter\":\(cursor)}\n\n"
                : "{\"end\":\"the server is stopping\",\"resumeAfter\":\(cursor)}\n"
            try await writer.write(ByteBuffer(string: resume))
            try await writer.finish(nil)
        })
    }
}
