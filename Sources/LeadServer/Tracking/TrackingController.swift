import EventLog
import Foundation
import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON
import Logging

/// What tracking takes and how it maps messages (`serve --tracking-…`).
public struct TrackingConfiguration: Sendable {
    public var mapping = TrackingMapping.standard
    /// The largest message (Segment's limit is 32 KB).
    public var maxMessageBytes = 32 << 10
    /// The largest batch body, after inflating (RudderStack's limit; Segment's is 500 KB).
    public var maxBatchBytes = 4 << 20
    /// Messages a second per write key (`nil`: no limit); past it, 429 with `Retry-After`.
    public var messagesPerSecond: Double?
    public init() {}
}

/// The Segment HTTP Tracking API (`POST /v1/identify|track|page|screen|group|alias|batch|
/// import`), so that Segment's and RudderStack's client libraries send to LeadLedger with
/// only their host and write key changed. The write key is an API key with the ingest role:
/// the user name of HTTP Basic credentials (with an empty password), a Bearer token, or the
/// body's `writeKey`. Answers as Segment does (`{"success": true}`); refusals are JSON with a
/// `code` and a `message` (what the libraries log), and a 5xx only ever means a server fault,
/// since the libraries retry those (and 429).
struct TrackingController {
    let store: LeadStore
    let keys: KeyStore
    let configuration: TrackingConfiguration
    let limiter = RateLimiter()
    let metrics: ServerMetrics
    let gate: WriteGate

    init(store: LeadStore, keys: KeyStore, configuration: TrackingConfiguration, metrics: ServerMetrics, gate: WriteGate) {
        self.store = store
        self.keys = keys
        self.configuration = configuration
        self.metrics = metrics
        self.gate = gate
    }

    func add(to router: Router<LeadRequestContext>) {
        for type in TrackingMessage.types {
            router.post("v1/\(type)") { request, context in try await receive(request, context: context, type: type) }
        }
        for batch in ["batch", "import"] {
            router.post("v1/\(batch)") { request, context in try await receive(request, context: context, type: nil) }
        }
    }

    /// A refusal as the libraries read it.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var code: String
        var message: String
        var extra: JSONObject = [:]
        var headers: HTTPFields = [:]

        var response: Response {
            var object: JSONObject = ["success": false, "code": .string(code), "message": .string(message)]
            for (name, value) in extra { object[name] = value }
            var response = jsonResponse(.object(object), status: status)
            for field in headers { response.headers.append(field) }
            return response
        }
    }

    /// `type`: the endpoint's message type, `nil` for a batch.
    @Sendable func receive(_ request: Request, context: LeadRequestContext, type: String?) async throws -> Response {
        do {
            return try await handle(request, context: context, type: type)
        } catch let refusal as Refusal {
            metrics.recordTrackingRefusal(status: Int(refusal.status.code))
            return refusal.response
        }
    }

    private func handle(_ request: Request, context: LeadRequestContext, type: String?) async throws -> Response {
        let receivedAt = Timestamp.now
        let limit = type == nil ? configuration.maxBatchBytes : configuration.maxMessageBytes
        // A key in the headers is checked before the body is read; one in the body, after.
        let headerKey = try Self.headerKey(request).map(authenticate)
        var body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw Refusal(status: .badRequest, code: "too_large", message: "the body is larger than \(limit) bytes: send fewer messages per batch")
        }
        if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
            guard encoding == "gzip" || encoding == "x-gzip" else {
                throw Refusal(status: .badRequest, code: "unsupported_encoding", message: "Content-Encoding \(encoding) is not supported (send gzip or none)")
            }
            do {
                body = try Gzip.inflate(body, limit: limit)
            } catch {
                throw Refusal(status: .badRequest, code: error.isTooLarge ? "too_large" : "invalid_gzip", message: error.description)
            }
        }
        let value: JSONValue
        do {
            value = try body.withUnsafeBytes { try JSONParser.parse($0) }
        } catch {
            throw Refusal(status: .badRequest, code: "invalid_json", message: "the body is not JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw Refusal(status: .badRequest, code: "invalid_json", message: "the body must be a JSON object, found \(value.typeName)")
        }
        guard let key = try headerKey ?? object["writeKey"]?.stringValue.map(authenticate) else {
            throw Refusal(status: .unauthorized, code: "missing_write_key", message: "no write key: send it as the user name of HTTP Basic credentials, as a Bearer token, or as writeKey in the body",
                          headers: [.wwwAuthenticate: "Basic realm=\"LeadLedger\""])
        }
        let messages: [JSONValue]
        var sizes: [Int]?
        if type == nil {
            guard case .array(let batch)? = object["batch"] else {
                throw Refusal(status: .badRequest, code: "invalid_batch", message: "a batch body is {\"batch\": [messages…]}: field \"batch\" is missing or not an array")
            }
            messages = batch
            sizes = body.withUnsafeBytes { BatchScanner.messageSizes($0) }
        } else {
            messages = [value]
        }
        // The key's own rate, else the server's (`serve --tracking-rate`).
        if let rate = key.messagesPerSecond ?? configuration.messagesPerSecond, let wait = limiter.take(messages.count, for: key.name, rate: rate) {
            throw Refusal(status: .tooManyRequests, code: "rate_limited", message: "the key \(key.name) sends more than \(Int(rate)) messages a second; retry after \(wait) s",
                          headers: [.retryAfter: String(wait)])
        }
        let batchSentAt = object["sentAt"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        let messageContext = TrackingMessage.Context(
            source: key.name, receivedAt: receivedAt, sentAt: batchSentAt, mapping: configuration.mapping,
            batchContext: type == nil ? object["context"]?.objectValue : nil)

        var refused: [(index: Int, reason: String)] = []
        var records: [PendingRecord] = []
        var owners: [Int] = []  // the message each record came from
        records.reserveCapacity(messages.count)
        for (index, message) in messages.enumerated() {
            if let sizes, index < sizes.count, sizes[index] > configuration.maxMessageBytes {
                refused.append((index, "the message is \(sizes[index]) bytes, more than \(configuration.maxMessageBytes)"))
                continue
            }
            do {
                for (event, route) in try TrackingMessage.events(of: message, type: type, context: messageContext) {
                    records.append(LeadStore.pending(event, route: route))
                    owners.append(index)
                }
            } catch {
                refused.append((index, error.reason))
            }
        }
        let outcomes: [AppendOutcome]
        do {
            let (log, batch) = (store.log, records)
            outcomes = batch.isEmpty ? [] : try await gate.withAppend { try await log.append(batch) }
        } catch {
            context.logger.error("tracking append failed", metadata: ["error": .string(StoreFault.describe(error, store: store.path))])
            // A server fault: the libraries retry it (and a message stored already is a duplicate).
            throw Refusal(status: .serviceUnavailable, code: "store_unavailable", message: "the store could not commit: \(StoreFault.describe(error, store: store.path)); \(StoreFault.whatWasStored(error)), retry later")
        }
        var stored = 0, duplicates = 0, quiet = 0
        for (offset, outcome) in outcomes.enumerated() {
            switch outcome {
            case .appended: stored += 1
            case .duplicate: duplicates += 1
            case .rejected(let reason) where LeadStore.isQuietRefusal(reason): quiet += 1
            case .rejected(let reason): refused.append((owners[offset], reason))
            case .conflict: refused.append((owners[offset], "conflict"))
            }
        }
        metrics.recordAppend(appended: stored, duplicates: duplicates, rejected: refused.count)
        let counts: JSONObject = ["stored": .integer(stored), "duplicates": .integer(duplicates), "unchanged": .integer(quiet)]
        guard refused.isEmpty else {
            refused.sort { $0.index < $1.index }
            var extra = counts
            extra["refused"] = .array(refused.map { ["index": .integer($0.index), "reason": .string($0.reason)] })
            let first = refused[0]
            let message = type == nil
                ? "\(refused.count) of \(messages.count) messages refused (the rest were stored); message \(first.index): \(first.reason)"
                : first.reason
            throw Refusal(status: .badRequest, code: "invalid_message", message: message, extra: extra)
        }
        var answer: JSONObject = ["success": true]
        for (name, count) in counts { answer[name] = count }
        return jsonResponse(.object(answer))
    }

    /// The key of a request's `Authorization`: a Basic user name (or, without one, the
    /// password), or a Bearer token. Parsed here: Segment's libraries send an empty password,
    /// which generic Basic parsers refuse.
    static func headerKey(_ request: Request) throws -> String? {
        guard let header = request.headers.first(.authorization) else { return nil }
        let lowered = header.lowercased()
        if lowered.hasPrefix("bearer ") {
            return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        guard lowered.hasPrefix("basic ") else {
            throw Refusal(status: .unauthorized, code: "invalid_authorization", message: "Authorization must be Basic (the write key as the user name) or Bearer")
        }
        guard let decoded = Data(base64Encoded: String(header.dropFirst("basic ".count)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8)
        else {
            throw Refusal(status: .unauthorized, code: "invalid_authorization", message: "the Basic credentials are not base64 of user:password")
        }
        let user = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(user.first ?? "")
        return name.isEmpty && user.count > 1 ? String(user[1]) : name
    }

    private func authenticate(_ secret: String) throws -> APIKey {
        guard let key = keys.key(forSecret: secret) else {
            throw Refusal(status: .unauthorized, code: "invalid_write_key", message: "the write key is not known (revoked, or mistyped)")
        }
        guard key.role.allows(.ingest) else {
            throw Refusal(status: .forbidden, code: "forbidden", message: "the key \(key.name) has the role \(key.role.rawValue); tracking needs ingest")
        }
        return key
    }
}

extension Gzip.Failure {
    var isTooLarge: Bool {
        if case .tooLarge = self { return true }
        return false
    }
}
