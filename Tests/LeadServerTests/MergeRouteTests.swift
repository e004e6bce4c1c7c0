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

@Suite("Server: POST /v1/leads/{id}/merge")
struct MergeRouteTests {
    static func post(
        _ client: some TestClientProtocol, _ lead: String, key: String, body: String, _ check: @escaping @Sendable (TestResponse) throws -> Void
    ) async throws {
        try await client.execute(
            uri: "/v1/leads/\(lead)/merge", method: .post,
            headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
            body: ByteBuffer(string: body)
        ) { try check($0) }
    }

    static func detail(_ response: TestResponse) throws -> String {
        try ServerTests.json(response)["detail"]?.stringValue ?? ""
    }

    @Test func anAdminMergesAndTheDuplicateResolvesToTheSurvivor() async throws {
        let fixture = try ServerTests.Fixture()
        try fixture.test.append(ServerTests.events)
        try await fixture.application().test(.router) { client in
            try await Self.post(client, "L-2", key: fixture.adminKey, body: #"{"into": "L-1", "reason": "same person"}"#) { response throws in
                #expect(response.status == .created)
                let body = try ServerTests.json(response)
                #expect(body["duplicate"] == "L-2")
                #expect(body["into"] == "L-1")
                #expect(body["actor"] == "api:ops")
                #expect(body["position"] == 4)
            }
            // The same merge again is the one already made.
            try await Self.post(client, "L-2", key: fixture.adminKey, body: #"{"into": "L-1"}"#) { response throws in
                #expect(response.status == .ok)
                #expect(try ServerTests.json(response)["alreadyMerged"] == true)
            }
            try await client.execute(uri: "/v1/leads/L-2", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response)
                #expect(body["lead"] == "L-1")
                #expect(body["merged"] == ["from": "L-2", "into": "L-1", "steps": [["lead": "L-2", "into": "L-1"]]])
                #expect(body["stages"]?.arrayValue?.count == 2)
            }
            // The duplicate's score is the survivor's, saying so.
            try fixture.test.store.publishRules(try RulesDocument.parse(ExampleRules.spec, path: "spec.yaml"), actor: "test", at: .now)
            try await client.execute(uri: "/v1/leads/L-2/score", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                #expect(response.status == .ok)
                let body = try ServerTests.json(response)
                #expect(body["lead"] == "L-1")
                #expect(body["merged"] == ["from": "L-2", "into": "L-1"])
            }
            try await client.execute(uri: "/v1/audit?type=lead.merged", method: .get, headers: [.authorization: "Bearer \(fixture.readKey)"]) { response in
                let rows = try #require(try ServerTests.json(response)["rows"]?.arrayValue)
                #expect(rows.map { $0["lead"] } == ["L-1", "L-2"])
                #expect(rows.allSatisfy { $0["actor"] == "api:ops" })
            }
            // Refusals, with the reason.
            try await Self.post(client, "L-1", key: fixture.adminKey, body: #"{"into": "L-2"}"#) { response throws in
                #expect(response.status == .conflict)
                #expect(try Self.detail(response).contains("would make a cycle"))
            }
            try await Self.post(client, "L-9", key: fixture.adminKey, body: #"{"into": "L-1"}"#) { response throws in
                #expect(response.status == .notFound)
                #expect(try Self.detail(response).contains("lead L-9 is unknown"))
            }
            try await Self.post(client, "L-1", key: fixture.adminKey, body: #"{"into": "L-1"}"#) { response throws in
                #expect(response.status == .badRequest)
                #expect(try Self.detail(response).contains("into itself"))
            }
        }
        #expect(try fixture.test.store.lead("L-2")?.mergedInto == "L-1")
    }

    @Test func onlyAnAdminMayMergeAndBadBodiesAreNamed() async throws {
        let fixture = try ServerTests.Fixture()
        try fixture.test.append(ServerTests.events)
        try await fixture.application().test(.router) { client in
            for key in [fixture.readKey, fixture.ingestKey] {
                try await Self.post(client, "L-2", key: key, body: #"{"into": "L-1"}"#) { response throws in
                    #expect(response.status == .forbidden)
                    #expect(try Self.detail(response).contains("this route needs admin"))
                }
            }
            try await client.execute(uri: "/v1/leads/L-2/merge", method: .post) { #expect($0.status == .unauthorized) }
            for (body, detail) in [
                ("{}", "into is missing"), (#"{"into": 7}"#, "into is a number, not a lead id"), (#"{"into": ""}"#, "into is a string, not a lead id"),
                (#"{"into": "L-1", "by": "x"}"#, "unknown member \"by\""), ("[1]", "not an object"), ("{", "the body is not JSON"),
                (#"{"into": "$rules"}"#, "may not start with '$'"),
            ] {
                try await Self.post(client, "L-2", key: fixture.adminKey, body: body) { response throws in
                    #expect(response.status == .badRequest, "\(body)")
                    let said = try Self.detail(response)
                    #expect(said.contains(detail), "\(body): \(said)")
                }
            }
        }
        #expect(try fixture.test.store.lead("L-2")?.mergedInto == nil)
    }
}
