import Foundation
import Hummingbird
import HummingbirdTesting
import LeadDomain
import LeadEngine
import LeadServer
import LedgerJSON
import Testing
import TestSupport

/// `GET /v1/accounts/{id}` and reports by account on a live server: a tracking `group` call
/// assigns the account, which wins over the e-mail domain.
@Suite("Server: GET /v1/accounts/{id}")
struct AccountRouteTests {
    @Test func aGroupCallAssignsTheAccount() async throws {
        let fixture = try ServerTests.Fixture()
        try fixture.test.append([
            Events.captured("u-1", extra: ["email": "ada@acme.com"]),
            Events.captured("u-2", extra: ["email": "bo@acme.com"]),
        ])
        try await fixture.application(port: 0).test(.live) { client in
            let ingest: HTTPFields = [.authorization: "Bearer \(fixture.ingestKey)", .contentType: "application/json"]
            let read: HTTPFields = [.authorization: "Bearer \(fixture.readKey)"]
            let group = #"{"userId":"u-1","groupId":"acct-42","traits":{"name":"Acme Inc","employees":1200},"timestamp":"2026-03-03T10:00:00Z"}"#
            try await client.execute(uri: "/v1/group", method: .post, headers: ingest, body: ByteBuffer(string: group)) { response throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/accounts/acct-42?asOf=2026-03-20T00:00:00Z", method: .get, headers: read) { response throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let body = try ServerTests.json(response)
                #expect(body["account"] == "acct-42")
                #expect(body["leads"]?.arrayValue?.compactMap { $0["lead"]?.stringValue } == ["u-1"])
                #expect(body["leads"]?.arrayValue?.first?["assignedBy"] == "event")
                #expect(body["firmographics"]?["name"] == "Acme Inc")
                #expect(body["firmographics"]?["employees"] == 1200)
            }
            try await client.execute(uri: "/v1/accounts/acme.com", method: .get, headers: read) { response throws in
                #expect(response.status == .ok)
                #expect(try ServerTests.json(response)["leads"]?.arrayValue?.compactMap { $0["lead"]?.stringValue } == ["u-2"])
            }
            try await client.execute(uri: "/v1/accounts/nobody.example", method: .get, headers: read) { response throws in
                #expect(response.status == .notFound)
                #expect(try ServerTests.json(response)["detail"]?.stringValue?.contains("unknown account nobody.example") == true)
            }
            try await client.execute(uri: "/v1/accounts/acct-42", method: .get) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/reports/funnel?by=account", method: .get, headers: read) { response throws in
                #expect(response.status == .ok)
                let keys = try ServerTests.json(response)["rows"]?.arrayValue?.compactMap { $0["key"]?.stringValue }
                #expect(Set(keys ?? []) == ["acct-42", "acme.com"])
            }
            try await client.execute(uri: "/v1/reports/account-funnel", method: .get, headers: read) { response throws in
                #expect(response.status == .ok)
                #expect(try ServerTests.json(response)["totals"]?["leads"] == 2)
            }
        }
    }
}
