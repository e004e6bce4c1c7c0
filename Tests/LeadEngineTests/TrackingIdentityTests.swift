import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// Tracking's identity on a real store: anonymous visitors' events kept under the visitor,
/// joined to a lead by identify or alias (past events at their own times, later ones in the
/// lead's stream), joins of two known leads recorded as conflicts, and a rebuild that gives
/// the live projection's bytes.
@Suite("Tracking: visitors, joins and replay")
struct TrackingIdentityTests {
    static func message(_ text: String) -> JSONValue {
        (try? JSONParser.parse(text)) ?? .null
    }

    /// Sends messages as one batch received at `receivedAt`; the outcome of each event.
    @discardableResult
    static func send(_ store: LeadStore, _ messages: [String], source: String = "web", receivedAt: String = "2026-03-10T12:00:00Z") throws -> [AppendOutcome] {
        let context = TrackingMessage.Context(source: source, receivedAt: Timestamp(rfc3339: receivedAt)!, sentAt: nil, mapping: .standard)
        var records: [PendingRecord] = []
        for text in messages {
            for (event, route) in try TrackingMessage.events(of: message(text), type: nil, context: context) {
                records.append(LeadStore.pending(event, route: route))
            }
        }
        return try store.log.appendAndWait(records)
    }

    static let adPage = #"{"type":"page","anonymousId":"a-1","messageId":"m-1","timestamp":"2026-03-01T09:00:00Z","context":{"campaign":{"source":"google","medium":"cpc","name":"spring"},"page":{"url":"https://example.com/pricing?utm_source=google"}}}"#
    static let blogPage = #"{"type":"page","anonymousId":"a-1","messageId":"m-2","timestamp":"2026-03-03T09:00:00Z","properties":{"url":"https://example.com/blog","referrer":"https://news.ycombinator.com/item"}}"#
    static let identify = #"{"type":"identify","userId":"u-1","anonymousId":"a-1","messageId":"m-3","timestamp":"2026-03-05T09:00:00Z","traits":{"email":"ada@example.com","company":"Example","employees":"51-200"}}"#
    static let demo = #"{"type":"track","userId":"u-1","anonymousId":"a-1","event":"Demo Requested","messageId":"m-4","timestamp":"2026-03-06T09:00:00Z"}"#

    func journey(_ store: LeadStore, _ lead: String) throws -> Journey? {
        var found: Journey?
        try store.forEachJourney { id, journey in if id == lead { found = journey } }
        return found
    }

    @Test func anonymousTouchesJoinTheLeadAtTheirOwnTimes() throws {
        let test = try TestStore("tracking")
        let stored = try Self.send(test.store, [Self.adPage, Self.blogPage])
        #expect(stored.allSatisfy { $0.position != nil })
        #expect(try test.store.lead("u-1") == nil)
        try Self.send(test.store, [Self.identify, Self.demo])

        let lead = try #require(try test.store.lead("u-1"))
        #expect(lead.profile["email"] == "ada@example.com")
        // A trait of the wrong kind is kept under another name, not refused.
        #expect(lead.profile["employeesText"] == "51-200")
        #expect(lead.touches == 3)
        let journey = try #require(try journey(test.store, "u-1"))
        let names = try test.store.dimensionNames()
        #expect(journey.touches.map { $0.at.rfc3339 } == ["2026-03-01T09:00:00Z", "2026-03-03T09:00:00Z", "2026-03-06T09:00:00Z"])
        #expect(journey.touches.map { names[$0.channel] } == ["paid_search", "referral", "direct"])
        let history = try test.store.history(of: "u-1")
        #expect(history.map(\.event.type) == [.touchPageView, .touchPageView, .leadCaptured, .identityLinked, .touchDemoRequested])
        #expect(history.allSatisfy { $0.event.lead == "u-1" })
        // The lead's audit holds the same events, filters and pages included.
        var audited: [LoggedEvent] = []
        try test.store.audit(AuditFilter(lead: "u-1")) { audited.append($0) }
        #expect(audited.map(\.position) == history.map(\.position))
        var touches: [LoggedEvent] = []
        try test.store.audit(AuditFilter(lead: "u-1", typePrefix: "touch.")) { touches.append($0) }
        #expect(touches.count == 3)
        let first = try test.store.auditPage(AuditFilter(lead: "u-1"), after: 0, limit: 2)
        #expect(first.rows.map(\.position) == Array(history.prefix(2)).map(\.position))
        let rest = try test.store.auditPage(AuditFilter(lead: "u-1"), after: try #require(first.next), limit: 10)
        #expect(rest.rows.map(\.position) == Array(history.dropFirst(2)).map(\.position))
        #expect(rest.next == nil)

        // Later anonymous events go to the lead's stream.
        try Self.send(test.store, [#"{"type":"page","anonymousId":"a-1","messageId":"m-5","timestamp":"2026-03-07T09:00:00Z"}"#])
        #expect(try test.store.lead("u-1")?.touches == 4)
        #expect(try test.store.log.positions(stream: "u-1").count == 4)

        // A re-send stores nothing twice.
        let again = try Self.send(test.store, [Self.adPage, Self.blogPage, Self.identify, Self.demo])
        #expect(again.allSatisfy { $0.position == nil })
        #expect(try test.store.lead("u-1")?.touches == 4)
        try expectRebuildGivesLive(test.store)
    }

    @Test func aUserSeenBeforeItsIdentifyIsJoinedToo() throws {
        let test = try TestStore("tracking")
        try Self.send(test.store, [#"{"type":"track","userId":"u-9","event":"Ad Clicked","messageId":"k-1","timestamp":"2026-03-01T08:00:00Z","context":{"campaign":{"source":"linkedin","medium":"paid_social"}}}"#])
        try Self.send(test.store, [#"{"type":"track","userId":"u-9","event":"Pricing Viewed","messageId":"k-2","timestamp":"2026-03-01T08:05:00Z","properties":{"plan":"team"}}"#])
        #expect(try test.store.lead("u-9") == nil)
        try Self.send(test.store, [#"{"type":"identify","userId":"u-9","messageId":"k-3","timestamp":"2026-03-02T08:00:00Z","traits":{"email":"b@example.com"}}"#])
        let lead = try #require(try test.store.lead("u-9"))
        #expect(lead.touches == 1)
        let history = try test.store.history(of: "u-9")
        #expect(history.map(\.event.type) == [.touchAdClick, .activityTracked, .leadCaptured, .identityLinked])
        #expect(history[1].event.data["event"] == "Pricing Viewed")
        // A second identify enriches.
        try Self.send(test.store, [#"{"type":"identify","userId":"u-9","messageId":"k-4","traits":{"title":"CTO"}}"#])
        #expect(try test.store.lead("u-9")?.profile["title"] == "CTO")
        #expect(try test.store.history(of: "u-9").last?.event.type == .leadEnriched)
        try expectRebuildGivesLive(test.store)
    }

    @Test func joiningTwoKnownLeadsIsRecordedNotMerged() throws {
        let test = try TestStore("tracking")
        try Self.send(test.store, [Self.adPage, Self.identify])
        // The same visitor identified as another user: a conflict on that user, no join.
        try Self.send(test.store, [#"{"type":"identify","userId":"u-2","anonymousId":"a-1","messageId":"c-1","traits":{"email":"other@example.com"}}"#])
        let conflicts = try test.store.history(of: "u-2").filter { $0.event.type == .identityConflict }
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.event.data["with"] == "u-1")
        #expect(try test.store.lead("u-2")?.touches == 0)
        #expect(try test.store.lead("u-1")?.touches == 1)
        // An alias of two leads: recorded, both stay.
        try Self.send(test.store, [#"{"type":"alias","userId":"u-2","previousId":"u-1","messageId":"c-2"}"#])
        let alias = try test.store.history(of: "u-2").filter { $0.event.type == .identityConflict }
        #expect(alias.count == 2)
        #expect(try test.store.lead("u-1")?.touches == 1)
        // An alias of a new visitor joins it.
        try Self.send(test.store, [#"{"type":"page","anonymousId":"a-7","messageId":"c-3","timestamp":"2026-03-02T09:00:00Z"}"#])
        try Self.send(test.store, [#"{"type":"alias","userId":"u-2","previousId":"a-7","messageId":"c-4"}"#])
        #expect(try test.store.lead("u-2")?.touches == 1)
        try expectRebuildGivesLive(test.store)
    }

    @Test func linksAndVisitorsInterleavedWithOtherLeadsRebuildTheSame() throws {
        let test = try TestStore("tracking")
        var messages: [String] = []
        for visitor in 0..<40 {
            for page in 0..<3 {
                messages.append(#"{"type":"page","anonymousId":"v-\#(visitor)","messageId":"p-\#(visitor)-\#(page)","timestamp":"2026-02-0\#(page + 1)T10:00:00Z","context":{"campaign":{"source":"s\#(visitor % 7)","medium":"m\#(visitor % 5)","name":"c\#(visitor)"}}}"#)
            }
            if visitor % 2 == 0 {
                messages.append(#"{"type":"identify","userId":"u-\#(visitor)","anonymousId":"v-\#(visitor)","messageId":"i-\#(visitor)","timestamp":"2026-02-05T10:00:00Z","traits":{"email":"x\#(visitor)@example.com"}}"#)
            }
        }
        for start in stride(from: 0, to: messages.count, by: 17) {
            try Self.send(test.store, Array(messages[start..<min(start + 17, messages.count)]))
        }
        try expectRebuildGivesLive(test.store)
    }
}
