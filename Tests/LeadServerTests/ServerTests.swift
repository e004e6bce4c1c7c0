import EventLog
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

/// The HTTP API over a real store, through Hummingbird's test client (`.router`: the whole
/// router and its middleware, no socket).
@Suite("Server: the HTTP API over a store")
struct ServerTests {
    /// A store with keys of every role, and the application over it.
    final class Fixture: @unchecked Sendable {
        let test: TestStore
        let keys: KeyStore
        let ingestKey: String
        let readKey: String
        let adminKey: String

        /// `options`: e.g. a master key, for a store that encrypts personal fields.
        init(options: LeadStore.Options = LeadStore.Options()) throws {
            test = try TestStore("server", options: options)
            keys = KeyStore(directory: test.directory.file("store"))
            ingestKey = try keys.create(name: "tracker", role: .ingest)
            readKey = try keys.create(name: "analyst", role: .read)
            adminKey = try keys.create(name: "ops", role: .admin)
        }

        /// Port 0 for a live test: the system picks a free one.
        func application(limits: ServerConfiguration.Limits = .init(), port: Int = 8080) -> some ApplicationProtocol {
            var configuration = ServerConfiguration()
            configuration.limits = limits
            configuration.port = port
            return buildApplication(configuration, store: test.store, keys: keys, logger: Logger(label: "test"))
        }
    }

    static func body(_ events: [Envelope]) -> ByteBuffer {
        ByteBuffer(string: "[" + events.map(Events.line).joined(separator: ",") + "]")
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONParser.parse(String(buffer: response.body))
    }

    static let events = [
        Events.captured("L-1", at: "2026-03-01T10:00:00Z"),
        Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z"),
        Events.captured("L-2", at: "2026-03-01T11:00:00Z"),
    ]

    @Test func postedEventsAreStoredAndReadBack() async throws {
        let fixture = try Fixture()
        try await fixture.application().test(.router) { client in
            try await client.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"],
                body: Self.body(Self.events)
            ) { response in
                #expect(response.status == .ok)
                let json = try Self.json(response)
                #expect(json["appended"] == 3)
                #expect(json["results"]?.arrayValue?[1]["status"] == "appended")
                #expect(json["results"]?.arrayValue?[1]["position"] == 2)
            }
            // The same again: duplicates, nothing stored twice.
            try await client.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/x-ndjson"],
                body: ByteBuffer(string: Self.events.map(Events.line).joined(separator: "\n"))
            ) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["duplicates"] == 3)
            }
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                #expect(response.status == .ok)
                let json = try Self.json(response)
                #expect(json["lead"] == "L-1")
                #expect(json["stage"] == "lead")
            }
            try await client.execute(uri: "/v1/leads/L-1/history", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                let body = try Self.json(response)
                #expect(body["rows"]?.arrayValue?.count == 2)
            }
            try await client.execute(uri: "/v1/leads/nobody", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try Self.json(response)
                #expect(body["detail"] == "unknown lead nobody")
            }
        }
        #expect(try fixture.test.store.log.lastPosition == 3)
    }

    @Test func keysAndRoles() async throws {
        let fixture = try Fixture()
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/leads/L-1", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer ll_nope"]) { #expect($0.status == .unauthorized) }
            // An ingest key cannot read; a read key cannot append; admin does both.
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.ingestKey)"]) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.authorization: "Bearer \(fixture.readKey)", .contentType: "application/json"],
                body: Self.body(Self.events)
            ) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.authorization: "Bearer \(fixture.adminKey)", .contentType: "application/json"],
                body: Self.body(Self.events)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.adminKey)"]) { #expect($0.status == .ok) }
            // A revoked key is refused from then on.
            try fixture.keys.revoke(name: "analyst")
            try await Task.sleep(for: .milliseconds(1_100))
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                for name in ["leadledger_events_appended_total", "leadledger_commit_seconds_bucket", "leadledger_commit_records_bucket", "leadledger_log_head_position", "leadledger_stream_subscribers"] {
                    #expect(text.contains(name), "\(name) missing from /metrics")
                }
            }
        }
    }

    @Test func badBodiesAreRefusedSayingWhy() async throws {
        let fixture = try Fixture()
        var limits = ServerConfiguration.Limits()
        limits.maxBodyBytes = 4_096
        limits.maxEventsPerRequest = 2
        let auth: HTTPFields = [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"]
        try await fixture.application(limits: limits).test(.router) { client in
            try await client.execute(uri: "/v1/events", method: .post, headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "text/plain"], body: Self.body(Self.events)) {
                #expect($0.status == .unsupportedMediaType)
            }
            // (The media type is compared without its case, spaces or parameters.)
            try await client.execute(uri: "/v1/events", method: .post, headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: " Application/X-NDJSON ; charset=utf-8"], body: ByteBuffer(string: "[")) {
                #expect($0.status == .badRequest)
                #expect(String(buffer: $0.body).contains("line 1"))
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth, body: ByteBuffer(string: "[{\"id\":")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("not JSON"))
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth, body: Self.body(Self.events)) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: auth, body: ByteBuffer(string: String(repeating: " ", count: 5_000) + "[]")) { response in
                #expect(response.status == .contentTooLarge)
            }
            var ndjson = auth
            ndjson[.contentType] = "application/x-ndjson"
            try await client.execute(uri: "/v1/events", method: .post, headers: ndjson, body: ByteBuffer(string: Events.line(Self.events[0]) + "\n{oops\n")) { response in
                #expect(response.status == .badRequest)
                let body = try Self.json(response)
                #expect(body["line"] == 2)
            }
            // An event the lifecycle refuses is an outcome, not a request error.
            try await client.execute(uri: "/v1/events", method: .post, headers: auth, body: Self.body([Events.touch("L-9", id: "t-9", at: "2026-03-02T10:00:00Z")])) { response in
                #expect(response.status == .ok)
                let json = try Self.json(response)
                #expect(json["rejected"] == 1)
                #expect(json["results"]?.arrayValue?[0]["status"] == "rejected")
            }
        }
        #expect(try fixture.test.store.log.lastPosition == 0)
    }

    @Test func concurrentPostersGetDistinctPositionsAndAuditPagesFollowACursor() async throws {
        let fixture = try Fixture()
        try await fixture.application().test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lead in 0..<20 {
                    group.addTask {
                        let events = [Events.captured("P-\(lead)", at: "2026-03-01T10:00:00Z")] + (0..<5).map {
                            Events.touch("P-\(lead)", id: "p-\(lead)-\($0)", at: "2026-03-02T10:00:00Z")
                        }
                        try await client.execute(
                            uri: "/v1/events", method: .post,
                            headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"],
                            body: Self.body(events)
                        ) { response in
                            let body = try Self.json(response)
                            #expect(body["appended"] == 6)
                        }
                    }
                }
                try await group.waitForAll()
            }
            var after: UInt64 = 0
            var positions: [UInt64] = []
            while true {
                let page = try await client.execute(uri: "/v1/audit?limit=7&after=\(after)", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                    try Self.json(response)
                }
                positions += (page["rows"]?.arrayValue ?? []).compactMap { $0["position"]?.doubleValue }.map { UInt64($0) }
                guard let next = page["next"]?.doubleValue else { break }
                after = UInt64(next)
            }
            #expect(positions == Array(1...120))
        }
    }

    @Test func reportsAnswerInJSONCSVAndHTML() async throws {
        let fixture = try Fixture()
        var events: [Envelope] = []
        Generator(leads: 60, seed: 3).generate { events.append($0) }
        _ = try fixture.test.append(events)
        let read: HTTPFields = [.authorization: "Bearer \(fixture.readKey)"]
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/reports/funnel", method: .get, headers: read) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["report"] == "funnel")
                #expect((body["rows"]?.arrayValue?.count ?? 0) > 0)
            }
            try await client.execute(uri: "/v1/reports/attribution?model=w-shaped&by=campaign", method: .get, headers: read) { response in
                let body = try Self.json(response)
                #expect(body["model"] == "w-shaped")
                #expect(body["by"] == "campaign")
            }
            var csv = read
            csv[.accept] = "text/csv"
            try await client.execute(uri: "/v1/reports/monthly", method: .get, headers: csv) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
            }
            var html = read
            html[.accept] = "text/html"
            try await client.execute(uri: "/v1/reports/sla?within=48", method: .get, headers: html) { response in
                #expect(String(buffer: response.body).hasPrefix("<!DOCTYPE html>"))
            }
            try await client.execute(uri: "/v1/reports/paths", method: .get, headers: read) { response in
                #expect(String(buffer: response.body).hasPrefix("path;total_conversions;total_conversion_value;total_null"))
            }
            try await client.execute(uri: "/v1/reports/attribution?model=psychic", method: .get, headers: read) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("model=psychic is not one of"))
            }
            try await client.execute(uri: "/v1/reports/plan?revenue=-5", method: .get, headers: read) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/reports/horoscope", method: .get, headers: read) { #expect($0.status == .notFound) }
        }
    }

    @Test func rulesArePublishedByAdminsAndRescoredByReaders() async throws {
        let fixture = try Fixture()
        var events: [Envelope] = []
        Generator(leads: 80, seed: 4).generate { events.append($0) }
        _ = try fixture.test.append(events)
        let spec = try String(contentsOf: SchemaExamples.folder.appendingPathComponent("rules/valid/spec-example.yaml"), encoding: .utf8)
        let easier = spec.replacingOccurrences(of: "2026-11-a", with: "2026-11-b").replacingOccurrences(of: "mql_threshold: 60", with: "mql_threshold: 40")
        let read: HTTPFields = [.authorization: "Bearer \(fixture.readKey)"]
        let admin: HTTPFields = [.authorization: "Bearer \(fixture.adminKey)"]
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/v1/rules", method: .get, headers: read) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/rules", method: .post, headers: read, body: ByteBuffer(string: spec)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/rules", method: .post, headers: admin, body: ByteBuffer(string: spec)) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/rules", method: .post, headers: admin, body: ByteBuffer(string: spec)) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["alreadyPublished"] == true)
            }
            try await client.execute(uri: "/v1/rules", method: .post, headers: admin, body: ByteBuffer(string: "version: x\n")) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/rules", method: .get, headers: read) { response in
                let body = try Self.json(response)
                #expect(body["version"] == "2026-11-a")
            }
            try await client.execute(uri: "/v1/rescore", method: .post, headers: read, body: ByteBuffer(string: easier)) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["rulesVersion"] == "2026-11-b")
                #expect(body["baseVersion"] == "2026-11-a")
            }
            try await client.execute(uri: "/v1/rescore?apply=true", method: .post, headers: read, body: ByteBuffer(string: easier)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/rescore?apply=true", method: .post, headers: admin, body: ByteBuffer(string: easier)) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["applied"] == true)
            }
        }
        #expect(try fixture.test.store.currentRules()?.version == "2026-11-b")
        #expect(try fixture.test.store.log.verify().isValid)
        #expect(try fixture.test.store.verifyProjections().isEmpty)
    }

    /// The description the server serves is `Schemas/openapi.yaml`, the contract.
    @Test func theServedOpenAPIDescriptionIsTheSchemasOne() async throws {
        let fixture = try Fixture()
        let contract = try String(contentsOf: SchemaExamples.folder.deletingLastPathComponent().appendingPathComponent("openapi.yaml"), encoding: .utf8)
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == contract, "Sources/LeadServer/OpenAPIDocument.swift is not Schemas/openapi.yaml: copy it there")
            }
        }
    }
}
