import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("Scoring rules: parsing and evaluation")
struct ScoringTests {
    static let specRules: JSONValue = [
        "version": "2026-11-a", "mql_threshold": 60, "decay": ["half_life_days": 30],
        "fit": [
            ["when": ["field": "title", "matches": #"(?i)\b(vp|vice president|director|head|chief|c[eft]o)\b"#], "points": 20],
            ["when": ["field": "employees", "gte": 200], "points": 10],
            ["when": ["field": "industry", "in": ["software", "fintech", "healthcare"]], "points": 10],
            ["when": ["field": "email", "matches": #"@(gmail|yahoo|hotmail)\."#], "points": -15],
        ],
        "behavior": [
            ["event": "touch.webinar_attended", "points": 15],
            ["event": "touch.demo_requested", "points": 40],
            ["event": "touch.page_view", "where": ["url": ["contains": "/pricing"]], "points": 10, "cap": ["count": 3, "per_days": 30]],
            ["event": "touch.email_click", "points": 3],
            ["event": "lead.unsubscribed", "points": -50],
        ],
    ]

    static func scorer(_ document: JSONValue = specRules) throws -> Scorer {
        Scorer(try ScoringRules(document: document))
    }

    static func rules(behavior: [JSONValue] = [], fit: [JSONValue] = [], halfLife: Double? = nil) -> JSONValue {
        var object: JSONObject = ["version": "t", "mql_threshold": 50, "fit": .array(fit), "behavior": .array(behavior)]
        if let halfLife { object["decay"] = ["half_life_days": .number(halfLife)] }
        return .object(object)
    }

    func evaluate(_ scorer: Scorer, profile: JSONObject = [:], events: [Envelope], at time: String) -> ScoreBreakdown {
        let matches = scorer.matches(of: events.enumerated().map { (UInt64($0.offset + 1), $0.element) })
        return scorer.evaluate(profile: profile, matches: matches, at: Events.at(time), explain: true)
    }

    @Test func fitRulesOfEveryKind() throws {
        let scorer = try Self.scorer()
        let vp: JSONObject = ["title": "VP Marketing", "employees": 250, "industry": "software", "email": "ana@acme.com"]
        #expect(scorer.fitHits(vp).map(\.rule) == [0, 1, 2])
        let chief: JSONObject = ["title": "Chief Revenue Officer", "employees": 200, "industry": "retail", "email": "x@gmail.com"]
        #expect(scorer.fitHits(chief).map(\.points) == [20, 10, -15])
        // Word boundaries: "vpn" is not "vp"; the number 199 is below 200; a string is not a number.
        #expect(scorer.fitHits(["title": "VPN admin", "employees": 199]).isEmpty)
        #expect(scorer.fitHits(["employees": "250"]).isEmpty)
        // Missing fields hold for nothing.
        #expect(scorer.fitHits([:]).isEmpty)

        let other = try Self.scorer(Self.rules(fit: [
            ["when": ["field": "employees", "gte": 50, "lte": 500], "points": 5],
            ["when": ["field": "country", "equals": "US"], "points": 3],
            ["when": ["field": "phone", "exists": false], "points": -2],
            ["when": ["field": "revenue", "gt": 1000, "lt": 2000], "points": 1],
        ]))
        #expect(other.fitHits(["employees": 50, "country": "US"]).map(\.rule) == [0, 1, 2])
        #expect(other.fitHits(["employees": 501, "country": "us", "phone": "+1"]).isEmpty)
        #expect(other.fitHits(["phone": nil, "revenue": 1500]).map(\.rule) == [2, 3])
    }

    @Test func behaviorRulesMatchTypeAndWhereConditions() throws {
        let scorer = try Self.scorer()
        let pricing = Events.event(.touchPageView, "L", id: "p", at: "2026-03-01T00:00:00Z", ["channel": "web", "url": "https://x.io/pricing?plan=pro"])
        let blog = Events.event(.touchPageView, "L", id: "b", at: "2026-03-01T00:00:00Z", ["channel": "web", "url": "https://x.io/blog"])
        let noURL = Events.event(.touchPageView, "L", id: "n", at: "2026-03-01T00:00:00Z", ["channel": "web"])
        #expect(scorer.matchingRules(pricing) == [2])
        #expect(scorer.matchingRules(blog).isEmpty)
        #expect(scorer.matchingRules(noURL).isEmpty)
        let conditional = try Self.scorer(Self.rules(behavior: [
            ["event": "touch.ad_click", "where": ["channel": ["in": ["paid_social", "paid_search"]], "campaign": ["equals": "ABM"]], "points": 4],
        ]))
        #expect(conditional.matchingRules(Events.event(.touchAdClick, "L", id: "a", at: "2026-03-01T00:00:00Z", ["channel": "paid_social", "campaign": "ABM"])) == [0])
        #expect(conditional.matchingRules(Events.event(.touchAdClick, "L", id: "a", at: "2026-03-01T00:00:00Z", ["channel": "paid_social", "campaign": "Other"])).isEmpty)
    }

    @Test func engagementDecaysByHalfEveryHalfLife() throws {
        let scorer = try Self.scorer()
        let webinar = Events.event(.touchWebinarAttended, "L", id: "w", at: "2026-03-01T00:00:00Z", ["channel": "webinar"])
        #expect(evaluate(scorer, events: [webinar], at: "2026-03-01T00:00:00Z").engagement == 15)
        #expect(evaluate(scorer, events: [webinar], at: "2026-03-31T00:00:00Z").engagement == 7.5)
        #expect(evaluate(scorer, events: [webinar], at: "2026-04-30T00:00:00Z").engagement == 3.75)
        // 15 days: 15 × 2^(-1/2)
        #expect(abs(evaluate(scorer, events: [webinar], at: "2026-03-16T00:00:00Z").engagement - 15 / 2.0.squareRoot()) < 1e-9)
        // A hit after the reference time does not count yet.
        #expect(evaluate(scorer, events: [webinar], at: "2026-02-28T00:00:00Z").engagement == 0)
        // Without a decay section points stay whole.
        let flat = try Self.scorer(Self.rules(behavior: [["event": "touch.webinar_attended", "points": 15]]))
        #expect(evaluate(flat, events: [webinar], at: "2027-03-01T00:00:00Z").engagement == 15)
    }

    @Test func capsCountAtMostNHitsInASlidingWindow() throws {
        let scorer = try Self.scorer(Self.rules(behavior: [["event": "touch.page_view", "where": ["url": ["contains": "/pricing"]], "points": 10, "cap": ["count": 3, "per_days": 30]]]))
        func view(_ day: String) -> Envelope {
            Events.event(.touchPageView, "L", id: day, at: "2026-03-\(day)T00:00:00Z", ["channel": "web", "url": "/pricing"])
        }
        // Four views within 30 days: the fourth does not count.
        #expect(evaluate(scorer, events: [view("01"), view("02"), view("03"), view("04")], at: "2026-03-05T00:00:00Z").engagement == 30)
        // A view exactly 30 days after the first is outside its window: the window slides.
        let later = Events.event(.touchPageView, "L", id: "late", at: "2026-03-31T00:00:00Z", ["channel": "web", "url": "/pricing"])
        #expect(evaluate(scorer, events: [view("01"), view("02"), view("03"), later], at: "2026-04-01T00:00:00Z").engagement == 40)
        // Hits are taken in time order, whatever order they arrived in.
        #expect(evaluate(scorer, events: [view("04"), view("03"), view("02"), view("01")], at: "2026-03-05T00:00:00Z").hits.map(\.at?.date) == ["2026-03-01", "2026-03-02", "2026-03-03"])
    }

    /// Found by the rules fuzz target: a window longer than Int64 microseconds hold trapped
    /// when converted, on every scored event once such rules were published (so a store whose
    /// log held them could not be opened). Documents now refuse windows past 36,500 days; the
    /// longest allowed, set straight into a rule, still holds every earlier hit of the years
    /// timestamps allow without trapping.
    @Test(arguments: [36_500.0])
    func aCapWindowLongerThanAnySpanCoversEveryEarlierHit(perDays: Double) throws {
        let scorer = try Self.scorer(Self.rules(behavior: [["event": "touch.email_click", "points": 5, "cap": ["count": 2, "per_days": .number(perDays)]]]))
        let clicks = ["2026-03-01", "2026-03-02", "2030-01-01", "2120-01-01"].map { day in
            Events.event(.touchEmailClick, "L", id: day, at: "\(day)T00:00:00Z", ["channel": "email"])
        }
        let score = evaluate(scorer, events: clicks, at: "2120-01-01T00:00:00Z")
        // Two hits in any hundred years: 2030 and 2120 fall in the first two's window.
        #expect(score.hits.map(\.at?.date) == ["2026-03-01", "2026-03-02"])
    }

    @Test func eachCappedRuleCountsOnlyItsOwnCountedHits() throws {
        let scorer = try Self.scorer(Self.rules(behavior: [
            ["event": "touch.page_view", "where": ["url": ["contains": "/pricing"]], "points": 10, "cap": ["count": 2, "per_days": 30]],
            ["event": "touch.email_click", "points": 1, "cap": ["count": 1, "per_days": 30]],
            ["event": "touch.webinar_attended", "points": 100],
        ]))
        func event(_ type: EventType, _ day: String) -> Envelope {
            Events.event(type, "L", id: "\(type.rawValue)-\(day)", at: "2026-03-\(day)T00:00:00Z", ["channel": "web", "url": "/pricing"])
        }
        // Interleaved rules: two views and one click count; the uncapped webinars always do.
        let interleaved = [
            event(.touchPageView, "01"), event(.touchEmailClick, "01"), event(.touchWebinarAttended, "02"), event(.touchPageView, "02"),
            event(.touchEmailClick, "02"), event(.touchWebinarAttended, "03"), event(.touchPageView, "03"),
        ]
        #expect(evaluate(scorer, events: interleaved, at: "2026-03-04T00:00:00Z").engagement == 221)
        // A hit over the cap does not count, so it takes no room in a later hit's window:
        // on the 31st, only the view of the 2nd is in the window (the 3rd's did not count).
        let views = [event(.touchPageView, "01"), event(.touchPageView, "02"), event(.touchPageView, "03"), event(.touchPageView, "31")]
        #expect(evaluate(scorer, events: views, at: "2026-03-31T00:00:00Z").hits.map(\.at?.date) == ["2026-03-01", "2026-03-02", "2026-03-31"])
    }

    /// Patterns run as byte automata when they can, else through ICU: both answer the same.
    @Test func patternsOutsideTheFastSubsetAndNonASCIITextsGoThroughICU() throws {
        let scorer = try Self.scorer(Self.rules(fit: [
            ["when": ["field": "title", "matches": #"(?i)\bvp\b"#], "points": 1],
            // A lookahead: outside the automata's subset.
            ["when": ["field": "email", "matches": "^(?!.*@gmail\\.).*@"], "points": 10],
        ]))
        #expect(scorer.fitPoints(["title": "VP Sales", "email": "a@acme.com"]) == 11)
        #expect(scorer.fitPoints(["title": "AVP", "email": "a@gmail.com"]) == 0)
        // The automaton cannot tell whether "VPé" ends a word: ICU answers (it does not).
        #expect(scorer.fitPoints(["title": "VPé", "email": "é@acme.com"]) == 10)
        #expect(scorer.fitPoints(["title": "Head of VP é", "email": "x"]) == 1)
    }

    @Test func aCapturesFitReadInPlaceIsItsProfilesFit() throws {
        let scorer = try Self.scorer()
        var captures: [Envelope] = []
        Generator(leads: 200, seed: 5).generate { if $0.type == .leadCaptured { captures.append($0) } }
        #expect(captures.count == 200)
        var distinct: Set<Double> = []
        for capture in captures {
            let fit = try EventCodec.encode(capture).withUnsafeBytes { scorer.fitPoints(try EventView($0)) }
            #expect(fit == scorer.fitPoints(capture.data), "\(capture.id)")
            distinct.insert(fit)
        }
        #expect(distinct.count > 3)
    }

    /// Conditions are tested on stored events without decoding strings and numbers (strings
    /// by their bytes where that gives the same answer): every operator, on every kind of value,
    /// in a known field and in one spelled out, answers as on the decoded event.
    @Test func conditionsOnStoredEventsAnswerAsOnDecodedOnes() throws {
        let values: [JSONValue?] = [
            nil, .null, "software", "Software", "", "VP Sales", "head of growth", "a@gmail.com", "a@gmail.co", "https://x.io/pricing?p=1",
            "/pricin", "K", "\u{212A}", "é", "e\u{301}", "Vice président", "VPé", 0, 200, 199.5, -3, 1e10, 2_147_483_648, true, false,
            ["software"], ["a": 1],
        ]
        let fitConditions: [JSONValue] = [
            ["matches": #"(?i)\b(vp|vice president|head)\b"#], ["matches": "^(?!.*@gmail\\.).*@"], ["matches": "é"],
            ["gte": 200], ["lte": 0], ["gt": -3, "lt": 1e10], ["in": ["software", "fintech", 200, true]], ["in": ["K", "é"]],
            ["equals": "K"], ["equals": "é"], ["equals": 200], ["equals": true], ["equals": "software"], ["exists": true], ["exists": false],
            ["matches": "(?i)soft", "in": ["software", "Software"]], ["exists": true, "equals": ""],
        ]
        let behaviorConditions: [JSONValue] = [
            ["contains": "/pricing"], ["contains": "é"], ["contains": ""], ["equals": "software"], ["equals": "K"], ["equals": 200],
            ["in": ["software", "/pricin", 0]], ["in": ["e\u{301}"]], ["matches": "(?i)^VP"], ["matches": "gmail\\.com$"],
        ]
        var compared = 0
        for field in ["industry", "x_custom"] {
            for condition in fitConditions {
                guard case .object(var when) = condition else { continue }
                when["field"] = .string(field)
                let scorer = try Self.scorer(Self.rules(fit: [["when": .object(when), "points": 1]]))
                for value in values {
                    var data: JSONObject = ["email": "a@acme.com", "title": "VP"]
                    if let value { data[field] = value }
                    let capture = Events.event(.leadCaptured, "L", id: "c", at: "2026-03-01T00:00:00Z", data)
                    let stored = try EventCodec.encode(capture).withUnsafeBytes { scorer.fitPoints(try EventView($0)) }
                    #expect(stored == scorer.fitPoints(data), "fit \(condition) on \(field) = \(String(describing: value))")
                    compared += 1
                }
            }
            for condition in behaviorConditions {
                let scorer = try Self.scorer(Self.rules(behavior: [["event": "touch.page_view", "where": .object([field: condition]), "points": 1]]))
                for value in values {
                    var data: JSONObject = ["channel": "web"]
                    if let value { data[field] = value }
                    let touch = Events.event(.touchPageView, "L", id: "t", at: "2026-03-01T00:00:00Z", data)
                    var matches: [ScoreMatch] = []
                    try EventCodec.encode(touch).withUnsafeBytes { scorer.record(try EventView($0), position: 1, into: &matches) }
                    #expect(matches.map(\.rule) == scorer.matchingRules(touch), "behavior \(condition) on \(field) = \(String(describing: value))")
                    compared += 1
                }
            }
        }
        #expect(compared == 2 * (fitConditions.count + behaviorConditions.count) * values.count)
        // The comparisons are not all one answer: strings equal by canonical equivalence too.
        let kelvin = try Self.scorer(Self.rules(fit: [["when": ["field": "x_custom", "in": ["K"]], "points": 1]]))
        let capture = Events.event(.leadCaptured, "L", id: "c", at: "2026-03-01T00:00:00Z", ["x_custom": "\u{212A}"])
        #expect(try EventCodec.encode(capture).withUnsafeBytes { kelvin.fitPoints(try EventView($0)) } == 1)
    }

    @Test func negativePointsSubtract() throws {
        let scorer = try Self.scorer()
        let demo = Events.event(.touchDemoRequested, "L", id: "d", at: "2026-03-01T00:00:00Z", ["channel": "web"])
        let unsubscribed = Events.event(.leadUnsubscribed, "L", id: "u", at: "2026-03-01T00:00:00Z")
        let result = evaluate(scorer, profile: ["email": "x@yahoo.com"], events: [demo, unsubscribed], at: "2026-03-01T00:00:00Z")
        #expect(result.fit == -15)
        #expect(result.engagement == -10)
        #expect(result.score == -25)
    }

    @Test func theExplanationSumsToTheScore() throws {
        let scorer = try Self.scorer()
        var events: [Envelope] = []
        Generator(leads: 30, seed: 8).generate { events.append($0) }
        let byLead = Dictionary(grouping: events, by: { $0.lead! })
        for (_, leadEvents) in byLead {
            var state: LeadState?
            for (offset, event) in leadEvents.enumerated() { Lifecycle.apply(event, position: UInt64(offset + 1), to: &state) }
            let result = evaluate(scorer, profile: state!.profile, events: leadEvents, at: "2026-08-01T00:00:00Z")
            let sum = result.hits.reduce(0) { $0 + $1.points }
            #expect(abs(sum - result.score) < 1e-9)
        }
    }

    @Test func theSpecDocumentParsesWithItsRules() throws {
        let rules = try ScoringRules(document: Self.specRules)
        #expect(rules.version == "2026-11-a")
        #expect(rules.mqlThreshold == 60)
        #expect(rules.halfLifeDays == 30)
        #expect(rules.fit.map(\.label) == ["fit[0]", "fit[1]", "fit[2]", "fit[3]"])
        #expect(rules.behavior[2].cap == BehaviorRule.Cap(count: 3, perDays: 30))
    }

    @Test(arguments: [
        (["mql_threshold": 60] as JSONValue, "field \"version\": required"),
        (["version": "v", "mql_threshold": "sixty"], "field \"mql_threshold\": must be a number"),
        (["version": "v", "mql_threshold": 1, "fit": [["when": ["field": "title", "matches": "(unclosed"], "points": 1]]], "rule fit[0], field \"when.matches\""),
        (["version": "v", "mql_threshold": 1, "fit": [["when": ["field": "title", "like": "x"], "points": 1]]], "rule fit[0], field \"when.like\": unknown operator"),
        (["version": "v", "mql_threshold": 1, "behavior": [["event": "touch.teleport", "points": 1]]], "rule behavior[0], field \"event\": unknown event type"),
        (["version": "v", "mql_threshold": 1, "behavior": [["event": "touch.chat", "points": 1, "cap": ["count": 0, "per_days": 3]]]], "rule behavior[0], field \"cap.count\""),
        // (Found by the rules fuzz target: a count past Int's range trapped when converted.)
        (["version": "v", "mql_threshold": 1, "behavior": [["event": "touch.chat", "points": 1, "cap": ["count": 1e300, "per_days": 3]]]], "rule behavior[0], field \"cap.count\""),
        (["version": "v", "mql_threshold": 1, "behavior": [["event": "touch.chat", "points": 1, "cap": ["count": 9.3e18, "per_days": 3]]]], "rule behavior[0], field \"cap.count\""),
        (["version": "v", "mql_threshold": 1, "behavior": [["name": "chatty", "event": "touch.chat"]]], "rule chatty, field \"points\": required"),
        (["version": "v", "mql_threshold": 1, "decay": ["half_life_days": -1]], "field \"decay.half_life_days\""),
        (["version": "v", "mql_threshold": 1, "treshold": 3], "field \"treshold\": unknown key"),
    ] as [(JSONValue, String)])
    func aBadDocumentIsRefusedNamingTheRuleAndField(document: JSONValue, message: String) {
        let error = #expect(throws: RulesError.self) { _ = try ScoringRules(document: document) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func liveQualificationHappensAtTheCrossingEventAndNotBeforeTheStage() throws {
        let scorer = try Self.scorer()
        var state: LeadState?
        let capture = Events.captured("L", at: "2026-03-01T00:00:00Z", extra: ["title": "VP Sales", "employees": 300, "industry": "fintech"])
        Lifecycle.apply(capture, position: 1, to: &state)
        #expect(LiveScoring.qualification(after: capture, state: state!, scorer: scorer) == nil)  // fit 40 < 60
        // A late pre-capture webinar is scored at the capture time: 40 + 15 = 55, still below.
        let late = Events.event(.touchWebinarAttended, "L", id: "w", at: "2026-02-01T00:00:00Z", ["channel": "webinar"])
        Lifecycle.apply(late, position: 2, to: &state)
        scorer.record(late, position: 2, into: &state!.matches)
        #expect(LiveScoring.qualification(after: late, state: state!, scorer: scorer) == nil)
        let click = Events.event(.touchEmailClick, "L", id: "c", at: "2026-03-02T00:00:00Z", ["channel": "email"])
        Lifecycle.apply(click, position: 3, to: &state)
        scorer.record(click, position: 3, into: &state!.matches)
        // 40 + 15·2^(-29/30) + 3 = 50.7: below.
        #expect(LiveScoring.qualification(after: click, state: state!, scorer: scorer) == nil)
        let demo = Events.event(.touchDemoRequested, "L", id: "d", at: "2026-03-03T00:00:00Z", ["channel": "web"])
        Lifecycle.apply(demo, position: 4, to: &state)
        scorer.record(demo, position: 4, into: &state!.matches)
        let crossing = try #require(LiveScoring.qualification(after: demo, state: state!, scorer: scorer))
        #expect(crossing.at == Events.at("2026-03-03T00:00:00Z"))
        #expect(crossing.score > 60)
    }
}
