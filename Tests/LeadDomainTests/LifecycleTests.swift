import LeadDomain
import LedgerJSON
import Testing
import TestSupport

/// Where a test lead starts: the events that bring it to a stage.
enum Start: String, CaseIterable, CustomTestStringConvertible {
    case lead, mql, handedOff, sal, sql, opportunity, customer, lost, recycled, disqualified

    var testDescription: String { rawValue }

    var events: [Envelope] {
        let l = "L-1"
        let captured = Events.captured(l, at: "2026-03-01T10:00:00Z")
        let qualified = Events.event(.leadQualified, l, id: "q", at: "2026-03-02T10:00:00Z", ["by": "manual"])
        let handoff = Events.event(.leadHandedOff, l, id: "h", at: "2026-03-03T10:00:00Z", actor: "mops", ["to": "ae-1"])
        let accepted = Events.event(.salesAccepted, l, id: "a", at: "2026-03-04T10:00:00Z", actor: "ae-1")
        let sqlEvent = Events.event(.salesQualified, l, id: "s", at: "2026-03-05T10:00:00Z", actor: "ae-1")
        let opened = Events.event(.opportunityOpened, l, id: "o", at: "2026-03-06T10:00:00Z", actor: "ae-1", ["opportunity": "OPP-1", "amount": 1000])
        switch self {
        case .lead: return [captured]
        case .mql: return [captured, qualified]
        case .handedOff: return [captured, qualified, handoff]
        case .sal: return [captured, qualified, handoff, accepted]
        case .sql: return [captured, qualified, handoff, accepted, sqlEvent]
        case .opportunity: return [captured, qualified, handoff, accepted, sqlEvent, opened]
        case .customer: return Start.opportunity.events + [Events.event(.dealClosed, l, id: "w", at: "2026-03-07T10:00:00Z", actor: "ae-1", ["opportunity": "OPP-1", "outcome": "won", "amount": 1000])]
        case .lost: return Start.opportunity.events + [Events.event(.dealClosed, l, id: "x", at: "2026-03-07T10:00:00Z", actor: "ae-1", ["opportunity": "OPP-1", "outcome": "lost"])]
        case .recycled: return Start.handedOff.events + [Events.event(.salesRejected, l, id: "r", at: "2026-03-04T10:00:00Z", actor: "ae-1", ["reason": "bad_timing", "recycle": true])]
        case .disqualified: return Start.handedOff.events + [Events.event(.salesRejected, l, id: "r", at: "2026-03-04T10:00:00Z", actor: "ae-1", ["reason": "not_fit"])]
        }
    }

    var state: LeadState? {
        var state: LeadState?
        for (offset, event) in events.enumerated() {
            #expect(Lifecycle.refusal(of: event, given: state) == nil, "setup event \(event.type.rawValue) refused")
            Lifecycle.apply(event, position: UInt64(offset + 1), to: &state)
        }
        return state
    }
}

/// An event under test and, for every start it is allowed from, the stage it leads to.
struct Transition: CustomTestStringConvertible, Sendable {
    let name: String
    let event: Envelope
    let allowed: [Start: Stage]
    var testDescription: String { name }

    static func same(_ starts: [Start]) -> [Start: Stage] {
        Dictionary(uniqueKeysWithValues: starts.map { ($0, $0.stage) })
    }

    static let all: [Transition] = {
        let l = "L-1"
        let at = "2026-03-10T10:00:00Z"
        let everywhere = Start.allCases
        return [
            Transition(name: "lead.qualified", event: Events.event(.leadQualified, l, id: "t", at: at, ["by": "manual"]),
                       allowed: [.lead: .mql, .recycled: .mql]),
            Transition(name: "lead.handed_off", event: Events.event(.leadHandedOff, l, id: "t", at: at, actor: "mops", ["to": "ae-2"]),
                       allowed: [.mql: .mql, .handedOff: .mql, .sal: .sal, .sql: .sql]),
            Transition(name: "sales.accepted", event: Events.event(.salesAccepted, l, id: "t", at: at, actor: "ae-2"),
                       allowed: [.handedOff: .sal]),
            Transition(name: "sales.rejected (recycle)", event: Events.event(.salesRejected, l, id: "t", at: at, actor: "ae-2", ["reason": "bad_timing", "recycle": true]),
                       allowed: [.handedOff: .recycled, .sal: .recycled, .sql: .recycled]),
            Transition(name: "sales.rejected", event: Events.event(.salesRejected, l, id: "t", at: at, actor: "ae-2", ["reason": "not_fit"]),
                       allowed: [.handedOff: .disqualified, .sal: .disqualified, .sql: .disqualified]),
            Transition(name: "sales.qualified", event: Events.event(.salesQualified, l, id: "t", at: at, actor: "ae-2"),
                       allowed: [.sal: .sql]),
            Transition(name: "opportunity.opened", event: Events.event(.opportunityOpened, l, id: "t", at: at, actor: "ae-2", ["opportunity": "OPP-9"]),
                       allowed: [.sal: .opportunity, .sql: .opportunity]),
            Transition(name: "deal.closed won", event: Events.event(.dealClosed, l, id: "t", at: at, actor: "ae-2", ["opportunity": "OPP-1", "outcome": "won", "amount": 5]),
                       allowed: [.opportunity: .customer]),
            Transition(name: "deal.closed lost", event: Events.event(.dealClosed, l, id: "t", at: at, actor: "ae-2", ["opportunity": "OPP-1", "outcome": "lost"]),
                       allowed: [.opportunity: .lost]),
            Transition(name: "lead.recycled", event: Events.event(.leadRecycled, l, id: "t", at: at, ["reason": "nurture"]),
                       allowed: Dictionary(uniqueKeysWithValues: everywhere.filter { $0 != .customer && $0 != .recycled }.map { ($0, Stage.recycled) })),
            Transition(name: "lead.disqualified", event: Events.event(.leadDisqualified, l, id: "t", at: at, ["reason": "spam"]),
                       allowed: Dictionary(uniqueKeysWithValues: everywhere.filter { $0 != .customer && $0 != .disqualified }.map { ($0, Stage.disqualified) })),
            Transition(name: "lead.captured again", event: Events.captured(l, id: "t", at: at), allowed: [:]),
            Transition(name: "touch", event: Events.touch(l, id: "t", at: at), allowed: same(everywhere)),
            Transition(name: "lead.enriched", event: Events.event(.leadEnriched, l, id: "t", at: at, ["industry": "software"]), allowed: same(everywhere)),
            Transition(name: "sales.contacted", event: Events.event(.salesContacted, l, id: "t", at: at, actor: "ae-2", ["channel": "call"]), allowed: same(everywhere)),
            Transition(name: "lead.unsubscribed", event: Events.event(.leadUnsubscribed, l, id: "t", at: at), allowed: same(everywhere)),
        ]
    }()
}

extension Start {
    var stage: Stage {
        switch self {
        case .lead: return .lead
        case .mql, .handedOff: return .mql
        case .sal: return .sal
        case .sql: return .sql
        case .opportunity: return .opportunity
        case .customer: return .customer
        case .lost: return .lost
        case .recycled: return .recycled
        case .disqualified: return .disqualified
        }
    }
}

@Suite("Lifecycle state machine")
struct LifecycleTests {
    @Test(arguments: Transition.all, Start.allCases)
    func everyTransitionIsAllowedOrRefusedAsTheSpecSays(transition: Transition, start: Start) throws {
        var state = start.state
        #expect(state?.stage == start.stage)
        let refusal = Lifecycle.refusal(of: transition.event, given: state)
        if let expected = transition.allowed[start] {
            #expect(refusal == nil, "\(transition.name) from \(start) refused: \(refusal ?? "")")
            Lifecycle.apply(transition.event, position: 100, to: &state)
            #expect(state?.stage == expected)
        } else {
            let reason = try #require(refusal, "\(transition.name) from \(start) was allowed")
            // The reason names the lead, its stage and the event.
            #expect(reason.contains("L-1"))
            #expect(reason.contains("stage \(start.stage.rawValue)"))
            #expect(reason.contains(transition.event.type.rawValue))
        }
    }

    @Test(arguments: EventType.allCases.filter { $0 != .leadCaptured && $0 != .rulesPublished })
    func anythingButACaptureIsRefusedForAnUnknownLead(type: EventType) {
        let event = Events.event(type, "L-404", id: "e", at: "2026-03-01T00:00:00Z", ["channel": "email"])
        let reason = Lifecycle.refusal(of: event, given: nil)
        #expect(reason?.contains("lead L-404 is unknown") == true)
    }

    @Test func handoffSetsTheOwnerAndStageChangesKeepTimeEventAndActor() throws {
        let state = try #require(Start.sal.state)
        #expect(state.owner == "ae-1")
        #expect(state.stages.map(\.stage) == [.lead, .mql, .sal])
        #expect(state.stages[2] == StageChange(stage: .sal, at: Events.at("2026-03-04T10:00:00Z"), type: .salesAccepted, actor: "ae-1", position: 4))
    }

    @Test func closingAnotherOpportunityThanTheOpenOneIsRefused() throws {
        let state = Start.opportunity.state
        let wrong = Events.event(.dealClosed, "L-1", id: "t", at: "2026-04-01T00:00:00Z", actor: "ae-1", ["opportunity": "OPP-2", "outcome": "lost"])
        #expect(Lifecycle.refusal(of: wrong, given: state)?.contains("the open opportunity is OPP-1") == true)
    }

    @Test func aRecycledLeadCanQualifyAgainAndMustBeHandedOffAgain() throws {
        var state = Start.recycled.state
        let requalified = Events.event(.leadQualified, "L-1", id: "q2", at: "2026-04-01T00:00:00Z", ["by": "manual"])
        #expect(Lifecycle.refusal(of: requalified, given: state) == nil)
        Lifecycle.apply(requalified, position: 10, to: &state)
        let accept = Events.event(.salesAccepted, "L-1", id: "a2", at: "2026-04-02T00:00:00Z", actor: "ae-1")
        #expect(Lifecycle.refusal(of: accept, given: state)?.contains("never handed off") == true)
    }

    @Test func aLateTouchIsAcceptedAndCountedWithoutMovingLastActivityBack() throws {
        var state = Start.mql.state
        let late = Events.touch("L-1", id: "late", at: "2026-01-15T00:00:00Z")
        #expect(Lifecycle.refusal(of: late, given: state) == nil)
        Lifecycle.apply(late, position: 9, to: &state)
        #expect(state?.touches == 1)
        #expect(state?.lastActivityAt == Events.at("2026-03-02T10:00:00Z"))
        #expect(state?.stage == .mql)
    }

    @Test func asOfQueriesSeeTheStageAtEachBoundary() throws {
        let events = Start.sal.events.enumerated().map { (position: UInt64($0.offset + 1), event: $0.element) }
        #expect(Lifecycle.state(of: events, asOf: Events.at("2026-02-28T23:59:59Z")) == nil)
        #expect(Lifecycle.state(of: events, asOf: Events.at("2026-03-01T10:00:00Z"))?.stage == .lead)
        #expect(Lifecycle.state(of: events, asOf: Events.at("2026-03-02T09:59:59Z"))?.stage == .lead)
        #expect(Lifecycle.state(of: events, asOf: Events.at("2026-03-02T10:00:00Z"))?.stage == .mql)
        let handedOff = Lifecycle.state(of: events, asOf: Events.at("2026-03-03T10:00:00Z"))
        #expect(handedOff?.stage == .mql)
        #expect(handedOff?.owner == "ae-1")
        #expect(Lifecycle.state(of: events, asOf: Events.at("2026-03-04T10:00:00Z"))?.stage == .sal)
    }

    @Test func profilesMergeFromCaptureAndEnrichment() throws {
        var state: LeadState?
        Lifecycle.apply(Events.captured("L-1", extra: ["title": "VP Marketing", "employees": 50]), position: 1, to: &state)
        Lifecycle.apply(Events.event(.leadEnriched, "L-1", id: "e", at: "2026-03-02T00:00:00Z", ["employees": 500, "industry": "software"]), position: 2, to: &state)
        #expect(state?.profile == ["source": "website", "title": "VP Marketing", "employees": 500, "industry": "software"])
    }

    @Test func theStoredLeadStateRoundTripsByteForByte() throws {
        let state = try #require(Start.customer.state)
        let bytes = LeadStateCodec.encode(state)
        let decoded = try bytes.withUnsafeBytes { try LeadStateCodec.decode($0, lead: "L-1") }
        #expect(decoded == state)
        #expect(LeadStateCodec.encode(decoded) == bytes)
    }
}

@Suite("Vocabulary: typed data per event type")
struct VocabularyTests {
    func refusal(_ type: EventType, _ data: JSONObject) -> EnvelopeError? {
        do {
            try Vocabulary.validate(type, data)
            return nil
        } catch {
            return error
        }
    }

    @Test func requiredFieldsAreNamed() {
        #expect(refusal(.touchEmailClick, [:])?.field == "data.channel")
        #expect(refusal(.leadCaptured, ["email": "a@b.c"])?.field == "data.source")
        #expect(refusal(.leadHandedOff, ["from": "mops"])?.field == "data.to")
        #expect(refusal(.salesRejected, [:])?.field == "data.reason")
        #expect(refusal(.opportunityOpened, ["amount": 5])?.field == "data.opportunity")
        #expect(refusal(.dealClosed, ["opportunity": "O", "outcome": "won"])?.field == "data.amount")
        #expect(refusal(.dealClosed, ["opportunity": "O", "outcome": "lost"]) == nil)
        #expect(refusal(.leadEnriched, [:])?.field == "data")
    }

    @Test func typesAndEnumsAreChecked() {
        #expect(refusal(.leadCaptured, ["source": "web", "employees": 12.5])?.message.contains("whole number") == true)
        #expect(refusal(.leadCaptured, ["source": "web", "employees": "many"])?.message.contains("found a string") == true)
        #expect(refusal(.salesRejected, ["reason": "too_expensive"])?.message.contains("not one of") == true)
        #expect(refusal(.salesContacted, ["channel": "carrier-pigeon"])?.field == "data.channel")
        #expect(refusal(.opportunityOpened, ["opportunity": "O", "currency": "usd"])?.field == "data.currency")
        #expect(refusal(.salesRejected, ["reason": "other", "recycle": "yes"])?.field == "data.recycle")
        #expect(refusal(.touchChat, ["channel": "chat", "campaign": nil])?.field == "data.campaign")
        #expect(refusal(.leadHandedOff, ["to": "ae", "score": nil, "rulesVersion": nil]) == nil)
    }

    @Test func customFieldsAreAllowed() {
        #expect(refusal(.touchAdClick, ["channel": "paid_social", "utm_term": "crm", "gclid": "abc"]) == nil)
    }
}
