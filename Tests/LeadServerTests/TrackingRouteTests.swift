import Foundation
import Hummingbird
import HummingbirdTesting
import LeadDomain
import LeadEngine
import LeadServer
import LedgerJSON
import Logging
import Testing
import TestSupport

/// The Segment-compatible routes over a real store: write keys as the libraries send them,
/// gzip, batches, and every refusal (size, JSON, ids, key, rate).
@Suite("Server: the tracking API")
struct TrackingRouteTests {
    final class Fixture: @unchecked Sendable {
        let test: TestStore
        let keys: KeyStore
        let writeKey: String
        let readKey: String

        init() throws {
            test = try TestStore("tracking-server")
            keys = KeyStore(directory: test.directory.file("store"))
            writeKey = try keys.create(name: "website", role: .ingest)
            readKey = try keys.create(name: "analyst", role: .read)
        }

        func application(_ tracking: TrackingConfiguration = .init()) -> some ApplicationProtocol {
            var configuration = ServerConfiguration()
            configuration.tracking = tracking
            return buildApplication(configuration, store: test.store, keys: keys, logger: Logger(label: "test"))
        }

        /// Basic credentials as Segment's libraries send them: the key, then an empty password.
        var basic: HTTPFields {
            [.authorization: "Basic " + Data((writeKey + ":").utf8).base64EncodedString(), .contentType: "application/json"]
        }
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONParser.parse(String(buffer: response.body))
    }

    static let batch = #"""
        {"batch":[
          {"type":"page","anonymousId":"a-1","messageId":"m-1","timestamp":"2026-03-01T09:00:00Z","context":{"campaign":{"source":"google","medium":"cpc"}}},
          {"type":"identify","userId":"u-1","anonymousId":"a-1","messageId":"m-2","timestamp":"2026-03-02T09:00:00Z","traits":{"email":"ada@example.com"}},
          {"type":"track","userId":"u-1","event":"Demo Requested","messageId":"m-3","timestamp":"2026-03-02T09:05:00Z"}
        ],"sentAt":"2026-03-02T09:06:00Z"}
        """#

    /// The answer's JSON (null when it is not JSON, which fails the expectation on it).
    static func field(_ response: TestResponse) -> JSONValue {
        (try? JSONParser.parse(String(buffer: response.body))) ?? .null
    }

    static func gzip(_ text: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    @Test func aBatchWithBasicCredentialsIsStoredOnce() async throws {
        let fixture = try Fixture()
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: ByteBuffer(string: Self.batch)) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["success"] == true)
                #expect(body["stored"] == 4)  // page, capture, link, demo (and the link's derived marker)
            }
            // The same batch again, gzipped, with the key in the body (analytics-python 2.x).
            var again = Self.batch
            again.removeLast()
            again += #","writeKey":"\#(fixture.writeKey)"}"#
            let zipped = try Self.gzip(again)
            try await client.execute(uri: "/v1/import", method: .post, headers: [.contentType: "application/json", .contentEncoding: "gzip"], body: ByteBuffer(bytes: zipped)) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["stored"] == 0)
                #expect(body["duplicates"] == 4)
            }
        }
        let lead = try #require(try fixture.test.store.lead("u-1"))
        #expect(lead.touches == 2)
        #expect(lead.profile["email"] == "ada@example.com")
    }

    @Test func singleMessageRoutes() async throws {
        let fixture = try Fixture()
        try await fixture.application().test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer \(fixture.writeKey)", .contentType: "application/json"]
            for (route, body) in [
                ("identify", #"{"userId":"u-2","traits":{"email":"b@example.com"}}"#), ("track", #"{"userId":"u-2","event":"Webinar Registered"}"#),
                ("page", #"{"userId":"u-2","name":"Pricing"}"#), ("screen", #"{"userId":"u-2","name":"Home"}"#),
                ("group", #"{"userId":"u-2","groupId":"acme","traits":{"name":"Acme"}}"#), ("alias", #"{"userId":"u-2","previousId":"a-9"}"#),
            ] {
                try await client.execute(uri: "/v1/\(route)", method: .post, headers: bearer, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .ok, "\(route): \(String(buffer: response.body))")
                }
            }
        }
        let lead = try #require(try fixture.test.store.lead("u-2"))
        #expect(lead.touches == 3)
        #expect(lead.profile["accountId"] == "acme")
    }

    @Test func refusals() async throws {
        let fixture = try Fixture()
        var tracking = TrackingConfiguration()
        tracking.maxMessageBytes = 512
        tracking.maxBatchBytes = 4_096
        try await fixture.application(tracking).test(.router) { client in
            let track = ByteBuffer(string: #"{"userId":"u","event":"X"}"#)
            try await client.execute(uri: "/v1/track", method: .post, body: track) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.field(response)["code"] == "missing_write_key")
            }
            try await client.execute(uri: "/v1/track", method: .post, headers: [.authorization: "Basic " + Data("nope:".utf8).base64EncodedString()], body: track) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/track", method: .post, headers: [.authorization: "Bearer \(fixture.readKey)"], body: track) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/track", method: .post, headers: fixture.basic, body: ByteBuffer(string: "{\"userId\":")) { response in
                #expect(response.status == .badRequest)
                #expect(Self.field(response)["code"] == "invalid_json")
            }
            try await client.execute(uri: "/v1/track", method: .post, headers: fixture.basic, body: ByteBuffer(string: #"{"event":"X"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(Self.field(response)["message"]?.stringValue?.contains("userId or an anonymousId") == true)
            }
            try await client.execute(uri: "/v1/track", method: .post, headers: fixture.basic, body: ByteBuffer(string: #"{"anonymousId":"undefined","event":"X"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(Self.field(response)["message"]?.stringValue?.contains("placeholder") == true)
            }
            let big = String(repeating: "x", count: 600)
            try await client.execute(uri: "/v1/track", method: .post, headers: fixture.basic, body: ByteBuffer(string: #"{"userId":"u","event":"\#(big)"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(Self.field(response)["code"] == "too_large")
            }
            // In a batch, an oversize message is refused and the others stored.
            let batch = #"{"batch":[{"type":"track","anonymousId":"a","event":"\#(big)"},{"type":"page","anonymousId":"a","messageId":"ok"}]}"#
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: ByteBuffer(string: batch)) { response in
                #expect(response.status == .badRequest)
                let body = try Self.json(response)
                #expect(body["stored"] == 1)
                #expect(body["refused"]?.arrayValue?.first?["index"] == 0)
            }
            let huge = #"{"batch":[\#(Array(repeating: #"{"type":"page","anonymousId":"a"}"#, count: 200).joined(separator: ","))]}"#
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: ByteBuffer(string: huge)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic.merging([.contentEncoding: "gzip"]), body: ByteBuffer(string: "not gzip")) { response in
                #expect(response.status == .badRequest)
                #expect(Self.field(response)["code"] == "invalid_gzip")
            }
        }
    }

    @Test func aKeyPastItsRateIsToldWhenToRetry() async throws {
        let fixture = try Fixture()
        var tracking = TrackingConfiguration()
        // (A rate so low that no time the test may take refills it: a full bucket lets one
        // burst through, then the next request waits.)
        tracking.messagesPerSecond = 0.01
        try await fixture.application(tracking).test(.router) { client in
            let batch = ByteBuffer(string: #"{"batch":[{"type":"page","anonymousId":"a","messageId":"1"},{"type":"page","anonymousId":"a","messageId":"2"},{"type":"page","anonymousId":"a","messageId":"3"}]}"#)
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: batch) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: batch) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] != nil)
            }
        }
    }
}

extension TrackingRouteTests {
    @Test func aKeyOfItsOwnRateIsLimitedAndOthersAreNot() async throws {
        let fixture = try Fixture()
        // The server allows 1,000 messages a second; one key has its own, lower rate (`keys create
        // --rate`), which wins for it; the others are counted at the server's.
        var tracking = TrackingConfiguration()
        tracking.messagesPerSecond = 1_000
        let slow = try fixture.keys.create(name: "partner", role: .ingest, messagesPerSecond: 1)
        #expect(try fixture.keys.list().first { $0.name == "partner" }?.messagesPerSecond == 1)
        let batch = ByteBuffer(string: #"{"batch":[{"type":"page","anonymousId":"a","messageId":"1"},{"type":"page","anonymousId":"a","messageId":"2"},{"type":"page","anonymousId":"a","messageId":"3"}]}"#)
        let partner: HTTPFields = [.authorization: "Basic " + Data((slow + ":").utf8).base64EncodedString(), .contentType: "application/json"]
        try await fixture.application(tracking).test(.router) { client in
            try await client.execute(uri: "/v1/batch", method: .post, headers: partner, body: batch) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/batch", method: .post, headers: partner, body: batch) { response in
                #expect(response.status == .tooManyRequests)
                #expect(String(buffer: response.body).contains("more than 1 messages a second"))
            }
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/batch", method: .post, headers: fixture.basic, body: batch) { #expect($0.status == .ok) }
            }
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
