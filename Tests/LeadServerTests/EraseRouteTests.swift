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

@Suite("Server: DELETE /v1/leads/{id}")
struct EraseRouteTests {
    /// A server over a store that encrypts personal fields, with keys of every role.
    static func fixture() throws -> ServerTests.Fixture {
        var options = LeadStore.Options()
        options.masterKey = MasterKey.random()
        return try ServerTests.Fixture(options: options)
    }

    static let email = "mary.somerville-4242@example.org"

    @Test func rulesOnPersonalFieldsArePublishedWithAWarning() async throws {
        let fixture = try Self.fixture()
        try await fixture.application().test(.router) { client in
            // The spec's example rules test a free-mail address on `email`, which is sealed.
            try await client.execute(
                uri: "/v1/rules", method: .post, headers: [.authorization: "Bearer \(fixture.adminKey)", .contentType: "application/yaml"],
                body: ByteBuffer(string: ExampleRules.spec)
            ) { response throws in
                #expect(response.status == .created)
                let warnings = try #require(try ServerTests.json(response)["warnings"]?.arrayValue)
                #expect(warnings.first?.stringValue?.contains("(email)") == true)
            }
            try await client.execute(
                uri: "/v1/rules", method: .post, headers: [.authorization: "Bearer \(fixture.adminKey)", .contentType: "application/yaml"],
                body: ByteBuffer(string: ExampleRules.withoutPersonalFields)
            ) { response throws in
                #expect(response.status == .created)
                #expect(try ServerTests.json(response)["warnings"] == nil)
            }
        }
    }

    @Test func anAdminErasesOverHTTPAndEveryAnswerReadsErased() async throws {
        let fixture = try Self.fixture()
        let events = [
            Events.captured("L-1", at: "2026-03-01T10:00:00Z", extra: ["email": .string(Self.email), "firstName": "Mary"]),
            Events.touch("L-1", id: "t-1", at: "2026-03-02T10:00:00Z"),
        ]
        try await fixture.application(port: 0).test(.live) { client in
            try await client.execute(
                uri: "/v1/events", method: .post,
                headers: [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"],
                body: ServerTests.body(events)
            ) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response throws in
                #expect(try ServerTests.json(response)["profile"]?["email"] == .string(Self.email))
            }
            // Only an admin may erase.
            for key in [fixture.readKey, fixture.ingestKey] {
                try await client.execute(uri: "/v1/leads/L-1?reason=request", method: .delete, headers: [.authorization: "Bearer \(key)"]) { response throws in
                    #expect(response.status == .forbidden)
                }
            }
            try await client.execute(uri: "/v1/leads/L-1", method: .delete, headers: [.authorization: "Bearer \(fixture.adminKey)"]) { response throws in
                #expect(response.status == .badRequest)
                #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("reason is missing") == true)
            }
            try await client.execute(
                uri: "/v1/leads/L-1", method: .delete,
                headers: [.authorization: "Bearer \(fixture.adminKey)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"reason": "GDPR request 77"}"#)
            ) { response throws in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response)
                #expect(body["lead"] == "L-1")
                #expect(body["actor"] == "api:ops")
                #expect(body["alreadyErased"] == false)
                #expect(body["erased"]?["reason"] == "GDPR request 77")
            }
            // Again: erased already, with the first reason.
            try await client.execute(uri: "/v1/leads/L-1?reason=again", method: .delete, headers: [.authorization: "Bearer \(fixture.adminKey)"]) { response throws in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response)
                #expect(body["alreadyErased"] == true)
                #expect(body["erased"]?["reason"] == "GDPR request 77")
            }
            try await client.execute(uri: "/v1/leads/L-9?reason=request", method: .delete, headers: [.authorization: "Bearer \(fixture.adminKey)"]) { response throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/leads/L-1", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response throws in
                let body = try ServerTests.json(response)
                #expect(body["profile"]?["email"] == .string(SealedValue.erasedText))
                #expect(body["profile"]?["emailDomain"] == "example.org")
                #expect(body["erased"]?["reason"] == "GDPR request 77")
            }
            for uri in ["/v1/leads/L-1/history", "/v1/audit?lead=L-1", "/v1/events?after=0"] {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response throws in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(!text.contains(Self.email), "\(uri)")
                    #expect(text.contains(SealedValue.erasedText), "\(uri)")
                }
            }
        }
    }

    @Test func aPlaintextStoreAnswersConflict() async throws {
        let fixture = try ServerTests.Fixture()
        try fixture.test.append(ServerTests.events)
        try await fixture.application(port: 0).test(.live) { client in
            try await client.execute(uri: "/v1/leads/L-1?reason=request", method: .delete, headers: [.authorization: "Bearer \(fixture.adminKey)"]) { response throws in
                #expect(response.status == .conflict)
                #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("plaintext") == true)
            }
        }
    }
}
