import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports
import Testing
import TestSupport

/// Lead merges on a real store: the survivor's state, stage history, profile, score and
/// journey after a merge (one conversion in every attribution model), the duplicate's id
/// resolving to the survivor, later events of the duplicate landing on the survivor, chains,
/// each refusal, merges asked for by a duplicate rejection, and rebuilds giving the live bytes.
@Suite("Lead merges")
struct LeadMergeTests {
    typealias E = Events

    /// Survivor `a`: captured, a touch, qualified, handed off and accepted (an SAL). Duplicate
    /// `b`: captured earlier with another profile, two touches of other channels.
    static func twoLeads(_ test: TestStore, a: String = "a", b: String = "b") throws {
        let outcomes = try test.append([
            E.captured(b, at: "2026-02-20T09:00:00Z", extra: ["email": "b@example.com", "title": "CTO", "company": "Other"]),
            E.touch(b, id: "\(b)-t1", .touchAdClick, at: "2026-02-21T09:00:00Z", channel: "paid_search", campaign: "winter"),
            E.captured(a, at: "2026-03-01T09:00:00Z", extra: ["email": "a@example.com", "company": "Acme"]),
            E.touch(a, id: "\(a)-t1", at: "2026-03-02T09:00:00Z", channel: "email", campaign: "spring"),
            E.event(.leadQualified, a, id: "\(a)-q", at: "2026-03-03T09:00:00Z"),
            E.event(.leadHandedOff, a, id: "\(a)-h", at: "2026-03-04T09:00:00Z", ["to": "sam"]),
            E.event(.salesAccepted, a, id: "\(a)-acc", at: "2026-03-05T09:00:00Z", actor: "sam"),
            E.touch(b, id: "\(b)-t2", .touchPageView, at: "2026-03-06T09:00:00Z", channel: "organic_search"),
        ])
        #expect(outcomes.allSatisfy { $0.position != nil }, "\(outcomes)")
    }

    static func won(_ test: TestStore, _ lead: String, opportunity: String, at day: Int, amount: Double = 1_000) throws {
        let outcomes = try test.append([
            E.event(.salesQualified, lead, id: "\(lead)-sql", at: "2026-03-\(day)T09:00:00Z", actor: "sam"),
            E.event(.opportunityOpened, lead, id: "\(lead)-opp", at: "2026-03-\(day)T10:00:00Z", actor: "sam", ["opportunity": .string(opportunity), "amount": .number(amount)]),
            E.event(.dealClosed, lead, id: "\(lead)-won", at: "2026-03-\(day)T11:00:00Z", actor: "sam",
                    ["opportunity": .string(opportunity), "outcome": "won", "amount": .number(amount)]),
        ])
        #expect(outcomes.allSatisfy { $0.position != nil }, "\(outcomes)")
    }

    static func journeys(_ store: LeadStore) throws -> [String: Journey] {
        var all: [String: Journey] = [:]
        try store.forEachJourney { all[$0] = $1 }
        return all
    }

    static func expectAppended(_ outcome: AppendOutcome, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.position != nil, "\(outcome)", sourceLocation: sourceLocation)
    }

    static func refusal(_ outcome: AppendOutcome) -> String {
        if case .rejected(let reason) = outcome { return reason }
        return "not refused: \(outcome)"
    }

    @Test func theSurvivorHoldsBothLeadsInTimeOrder() throws {
        let test = try TestStore("merge")
        #expect(try test.store.publishRules(try specRules(), actor: "ops", at: E.at("2026-01-01T00:00:00Z")).position != nil)
        try Self.twoLeads(test)
        let before = try #require(try test.store.lead("a"))
        let duplicate = try #require(try test.store.lead("b"))
        let scoreBefore = try #require(try test.store.score(of: "a")?.score)
        Self.expectAppended(try test.store.merge("b", into: "a", actor: "ops-lee", at: E.at("2026-03-07T09:00:00Z")))

        let merged = try #require(try test.store.lead("a"))
        #expect(merged.stage == .sal)
        #expect(merged.owner == "sam")
        #expect(merged.stages.map(\.stage) == [.lead, .lead, .mql, .sal])
        #expect(merged.stages.map { $0.at.rfc3339 } == ["2026-02-20T09:00:00Z", "2026-03-01T09:00:00Z", "2026-03-03T09:00:00Z", "2026-03-05T09:00:00Z"])
        #expect(merged.stageEnteredAt == E.at("2026-03-05T09:00:00Z"))
        // The survivor's fields win; the duplicate fills the gaps.
        #expect(merged.profile["email"] == "a@example.com")
        #expect(merged.profile["company"] == "Acme")
        #expect(merged.profile["title"] == "CTO")
        #expect(merged.capturedAt == E.at("2026-02-20T09:00:00Z"))
        #expect(merged.lastActivityAt == E.at("2026-03-07T09:00:00Z"))
        #expect(merged.touches == before.touches + duplicate.touches)
        #expect(merged.matches.count == before.matches.count + duplicate.matches.count)
        #expect(merged.mergedInto == nil)
        // Both leads' hits and the profile's added fit count.
        let score = try #require(try test.store.score(of: "a")?.score)
        #expect(score > scoreBefore)
        // As of a time: before the merge, the survivor alone; after it, as projected.
        let then = try #require(try test.store.lead("a", asOf: E.at("2026-03-06T12:00:00Z")))
        #expect(then.stages.count == 3 && then.profile["title"] == nil)
        let now = try #require(try test.store.lead("a", asOf: E.at("2026-03-07T12:00:00Z")))
        #expect(now.stages == merged.stages && now.profile == merged.profile && now.stage == merged.stage && now.touches == merged.touches)

        // The duplicate's id resolves to the survivor; it keeps no journey of its own.
        #expect(try test.store.lead("b")?.mergedInto == "a")
        let resolved = try #require(try test.store.resolvedLead("b"))
        #expect(resolved.state.lead == "a")
        #expect(resolved.chain.map(\.into) == ["a"])
        var listed: [String] = []
        try test.store.forEachLead { listed.append($0.lead) }
        #expect(listed == ["a"])
        let journeys = try Self.journeys(test.store)
        #expect(journeys.keys.sorted() == ["a"])
        let journey = try #require(journeys["a"])
        let names = try test.store.dimensionNames()
        #expect(journey.touches.map { names[$0.channel] } == ["paid_search", "email", "organic_search"])
        #expect(journey.capturedAt == E.at("2026-02-20T09:00:00Z"))
        #expect(journey.handoffs.count == 1)

        // Later events naming the duplicate are the survivor's.
        Self.expectAppended(try test.store.append([E.touch("b", id: "b-t3", at: "2026-03-08T09:00:00Z", channel: "email")])[0])
        #expect(try test.store.lead("a")?.touches == merged.touches + 1)
        #expect(try test.store.history(of: "a").contains { $0.event.id == "b-t3" && $0.event.lead == "a" })

        // One conversion in every model, the survivor's won deal.
        try Self.won(test, "a", opportunity: "opp-1", at: 10)
        for model in AttributionModel.allCases {
            var accumulator = AttributionAccumulator(settings: AttributionSettings(model: model, by: .channel))
            try test.store.forEachJourney { _, journey in accumulator.add(journey) }
            let report = accumulator.report { names[$0] ?? "?" }
            #expect(report.totals["conversions"]?.doubleValue.map { ($0 * 1e6).rounded() / 1e6 } == 1, "\(model): \(report.totals)")
        }
        try expectRebuildGivesLive(test.store)
    }

    @Test func theDuplicatesMoreAdvancedStageWins() throws {
        let test = try TestStore("merge")
        try Self.twoLeads(test)
        try Self.won(test, "a", opportunity: "opp-1", at: 10)
        Self.expectAppended(try test.store.append([E.captured("c", at: "2026-03-11T09:00:00Z", extra: ["email": "c@example.com"])])[0])
        // The customer is merged into a lead that is only captured: the customer's stage wins.
        Self.expectAppended(try test.store.merge("a", into: "c", actor: "ops"))
        let merged = try #require(try test.store.lead("c"))
        #expect(merged.stage == .customer)
        #expect(merged.opportunity == "opp-1")
        #expect(merged.stageEnteredAt == E.at("2026-03-10T11:00:00Z"))
        #expect(merged.profile["email"] == "c@example.com")
        let journey = try #require(try Self.journeys(test.store)["c"])
        #expect(journey.wonAt == E.at("2026-03-10T11:00:00Z"))
        #expect(journey.revenue == 1_000)
        try expectRebuildGivesLive(test.store)
    }

    @Test func mergesChain() throws {
        let test = try TestStore("merge")
        try Self.twoLeads(test)
        Self.expectAppended(try test.store.append([E.captured("c", at: "2026-03-08T09:00:00Z", extra: ["phone": "123"])])[0])
        Self.expectAppended(try test.store.merge("b", into: "a", actor: "ops"))
        Self.expectAppended(try test.store.merge("a", into: "c", actor: "ops"))
        let merged = try #require(try test.store.lead("c"))
        #expect(merged.stage == .sal)
        #expect(merged.stages.count == 5)
        #expect(merged.profile["email"] == "a@example.com")
        #expect(merged.profile["phone"] == "123")
        #expect(merged.profile["title"] == "CTO")
        let resolved = try #require(try test.store.resolvedLead("b"))
        #expect(resolved.state.lead == "c")
        #expect(resolved.chain.map { "\($0.lead)>\($0.into)" } == ["b>a", "a>c"])
        // An event for the first duplicate follows the chain to its end.
        Self.expectAppended(try test.store.append([E.touch("b", id: "b-late", at: "2026-03-09T09:00:00Z")])[0])
        #expect(try test.store.lead("c")?.touches == merged.touches + 1)
        let history = try test.store.history(of: "c")
        #expect(Set(history.compactMap(\.event.lead)) == ["a", "b", "c"])
        #expect(history.map(\.position) == history.map(\.position).sorted())
        #expect(try Self.journeys(test.store).keys.sorted() == ["c"])
        try expectRebuildGivesLive(test.store)
    }

    @Test func refusalsSayWhy() throws {
        let test = try TestStore("merge")
        try Self.twoLeads(test)
        #expect(Self.refusal(try test.store.merge("a", into: "a", actor: "ops")).contains("cannot be merged into itself"))
        #expect(Self.refusal(try test.store.merge("zz", into: "a", actor: "ops")).contains("lead zz is unknown"))
        #expect(Self.refusal(try test.store.merge("a", into: "zz", actor: "ops")).contains("lead zz is unknown"))
        Self.expectAppended(try test.store.append([E.captured("c", at: "2026-03-08T09:00:00Z")])[0])
        Self.expectAppended(try test.store.merge("b", into: "a", actor: "ops"))
        #expect(Self.refusal(try test.store.merge("c", into: "b", actor: "ops")).contains("lead b was merged away into lead a; merge into lead a instead"))
        #expect(Self.refusal(try test.store.merge("a", into: "b", actor: "ops")).contains("would make a cycle"))
        #expect(Self.refusal(try test.store.merge("b", into: "c", actor: "ops")).contains("lead b was merged into lead a already"))
        // The same merge again is the same event: answered as a duplicate.
        #expect(try test.store.merge("b", into: "a", actor: "ops") == .duplicate(position: try #require(try test.store.history(of: "b").last?.position) - 1))

        // Two customers with different won deals are two conversions.
        try Self.won(test, "a", opportunity: "opp-a", at: 10)
        Self.expectAppended(try test.store.append([
            E.event(.leadQualified, "c", id: "c-q", at: "2026-03-09T09:00:00Z"),
            E.event(.leadHandedOff, "c", id: "c-h", at: "2026-03-09T10:00:00Z", ["to": "kim"]),
            E.event(.salesAccepted, "c", id: "c-acc", at: "2026-03-09T11:00:00Z", actor: "kim"),
        ])[2])
        try Self.won(test, "c", opportunity: "opp-c", at: 12)
        let reason = Self.refusal(try test.store.merge("c", into: "a", actor: "ops"))
        #expect(reason.contains("both are customers with different won opportunities (opp-a and opp-c)"), "\(reason)")
        // Input cannot write the duplicate's marker.
        let marker = E.event(.leadMerged, "c", id: "fake", at: "2026-03-20T00:00:00Z", ["duplicate": "c", "into": "a"])
        #expect(Self.refusal(try test.append(marker)[0]).contains("data.into is written by the engine"))
        #expect(try test.store.lead("c")?.mergedInto == nil)
        try expectRebuildGivesLive(test.store)
    }

    @Test func aDuplicateRejectionMerges() throws {
        let test = try TestStore("merge")
        try Self.twoLeads(test)
        Self.expectAppended(try test.store.append([
            E.event(.leadQualified, "b", id: "b-q", at: "2026-03-06T10:00:00Z"),
            E.event(.leadHandedOff, "b", id: "b-h", at: "2026-03-06T11:00:00Z", ["to": "kim"]),
        ])[1])
        let wrongReason = E.event(.salesRejected, "b", id: "b-rej0", at: "2026-03-07T09:00:00Z", actor: "kim", ["reason": "bad_data", "duplicateOf": "a"])
        #expect(Self.refusal(try test.append(wrongReason)[0]).contains("data.duplicateOf is only for data.reason \"duplicate\""))
        let intoItself = E.event(.salesRejected, "b", id: "b-rej1", at: "2026-03-07T09:00:00Z", actor: "kim", ["reason": "duplicate", "duplicateOf": "b"])
        #expect(Self.refusal(try test.append(intoItself)[0]).contains("cannot be merged into itself"))
        #expect(try test.store.lead("b")?.stage == .mql)

        let rejection = E.event(.salesRejected, "b", id: "b-rej", at: "2026-03-07T09:00:00Z", actor: "kim", ["reason": "duplicate", "duplicateOf": "a"])
        Self.expectAppended(try test.append(rejection)[0])
        #expect(try test.store.lead("b")?.mergedInto == "a")
        let merged = try #require(try test.store.lead("a"))
        #expect(merged.stage == .sal)
        #expect(merged.stages.map(\.stage) == [.lead, .lead, .mql, .sal, .mql, .disqualified])
        #expect(merged.stageEnteredAt == E.at("2026-03-05T09:00:00Z"))
        // The audit says who merged what and when.
        var merges: [LoggedEvent] = []
        try test.store.audit(AuditFilter(typePrefix: "lead.merged")) { merges.append($0) }
        #expect(merges.map(\.event.id) == ["b-rej#merge", "$m/b-rej#merge"])
        #expect(merges.map(\.event.lead) == ["a", "b"])
        #expect(merges.allSatisfy { $0.event.actor == "kim" && $0.event.at == E.at("2026-03-07T09:00:00Z") })
        #expect(merges.first?.event.data["duplicate"] == "b")
        try expectRebuildGivesLive(test.store)
    }

    @Test func aDuplicatesVisitorsComeAlong() throws {
        let test = try TestStore("merge")
        try TrackingIdentityTests.send(test.store, [TrackingIdentityTests.adPage, TrackingIdentityTests.blogPage, TrackingIdentityTests.identify])
        Self.expectAppended(try test.append(E.captured("s", at: "2026-03-04T09:00:00Z", extra: ["email": "ada@work.example"]))[0])
        Self.expectAppended(try test.store.merge("u-1", into: "s", actor: "ops", at: E.at("2026-03-07T09:00:00Z")))
        // The visitor's next page is the survivor's, through the lead it was joined to.
        let later = #"{"type":"page","anonymousId":"a-1","messageId":"m-9","timestamp":"2026-03-08T09:00:00Z","properties":{"url":"https://example.com/docs"}}"#
        #expect(try TrackingIdentityTests.send(test.store, [later]).allSatisfy { $0.position != nil })
        let journey = try #require(try Self.journeys(test.store)["s"])
        #expect(journey.touches.map { $0.at.rfc3339 } == ["2026-03-01T09:00:00Z", "2026-03-03T09:00:00Z", "2026-03-08T09:00:00Z"])
        #expect(try test.store.lead("s")?.profile["company"] == "Example")
        #expect(try test.store.history(of: "s").map(\.event.type).filter(\.isTouch).count == 3)
        try expectRebuildGivesLive(test.store)
    }

    @Test func rescoreSimulatesMergesAsAStoreThatHadTheRulesFromTheStart() throws {
        var events = generated(300, seed: 23)
        var leads: [String] = []
        for event in events where event.type == .leadCaptured { leads.append(event.lead ?? "") }
        for pair in 0..<40 {
            events.append(try LeadStore.mergeEvent(duplicate: leads[2 * pair + 1], into: leads[2 * pair], actor: "ops", at: E.at("2026-11-20T00:00:00Z")))
        }
        let old = try TestStore("old")
        try old.store.publishRules(try specRules(), actor: "mops", at: E.at("2025-12-01T00:00:00Z"))
        let stored = try old.append(events)
        #expect(stored.suffix(40).filter { $0.position != nil }.count > 30)
        let report = try old.store.rescore(with: try easierRules(), asOf: E.at("2026-12-01T00:00:00Z"))

        let fresh = try TestStore("fresh")
        try fresh.store.publishRules(try easierRules(), actor: "mops", at: E.at("2025-12-01T00:00:00Z"))
        _ = try fresh.append(events)
        var before: [String: Timestamp] = [:]
        var leadsBefore = 0, leadsAfter = 0
        try old.store.forEachLead { before[$0.lead] = $0.firstQualifiedAt; leadsBefore += 1 }
        var after: [String: Timestamp] = [:]
        try fresh.store.forEachLead { after[$0.lead] = $0.firstQualifiedAt; leadsAfter += 1 }
        let all = Set(before.keys).union(after.keys).sorted()
        // Merged-away leads count in their survivors only.
        #expect(report.leads == leadsBefore)
        #expect(leadsBefore == leadsAfter)
        #expect(report.newlyQualified.count + report.moved.count > 10)
        #expect(report.newlyQualified == all.filter { before[$0] == nil && after[$0] != nil })
        #expect(report.noLongerQualified == all.filter { before[$0] != nil && after[$0] == nil })
        #expect(report.moved.map(\.lead) == all.filter { before[$0] != nil && after[$0] != nil && before[$0] != after[$0] })
    }

    @Test func mergesAcrossShardsRebuildTheSame() throws {
        let test = try TestStore("merge")
        var events: [Envelope] = []
        for pair in 0..<24 {
            events.append(E.captured("p-\(pair)", at: "2026-02-0\(pair % 9 + 1)T09:00:00Z", extra: ["email": .string("p\(pair)@example.com")]))
            events.append(E.captured("q-\(pair)", at: "2026-02-0\(pair % 7 + 1)T08:00:00Z", extra: ["title": .string("t\(pair)")]))
            events.append(E.touch("q-\(pair)", id: "q-\(pair)-t", at: "2026-02-10T09:00:00Z", channel: "c\(pair % 5)", campaign: "k\(pair)"))
            events.append(E.touch("p-\(pair)", id: "p-\(pair)-t", at: "2026-02-11T09:00:00Z", channel: "d\(pair % 3)"))
        }
        #expect(try test.append(events).allSatisfy { $0.position != nil })
        for pair in 0..<24 {
            Self.expectAppended(try test.store.merge("q-\(pair)", into: "p-\(pair)", actor: "ops", at: E.at("2026-02-12T09:00:00Z")))
            if pair % 3 == 0 {
                Self.expectAppended(try test.append(E.touch("q-\(pair)", id: "q-\(pair)-late", at: "2026-02-13T09:00:00Z", channel: "late"))[0])
            }
        }
        for pair in stride(from: 0, to: 24, by: 4) {
            Self.expectAppended(try test.store.merge("p-\(pair)", into: "p-\(pair + 1)", actor: "ops", at: E.at("2026-02-14T09:00:00Z")))
        }
        let journeys = try Self.journeys(test.store)
        #expect(journeys.count == 18)
        #expect(journeys["p-1"]?.touches.count == 5)
        try expectRebuildGivesLive(test.store)
    }
}
