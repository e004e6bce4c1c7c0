import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// The scoring rules of SPEC section 4, as a file in the repository.
let specRulesPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Schemas/examples/rules/valid/spec-example.yaml").path

func specRules() throws -> ScoringRules {
    try RulesDocument.load(path: specRulesPath)
}

/// The spec's rules with a lower threshold: more leads qualify, earlier.
func easierRules() throws -> ScoringRules {
    var rules = try specRules()
    var document = rules.document
    document["version"] = "2026-11-b"
    document["mql_threshold"] = 40
    rules = try ScoringRules(document: .object(document))
    return rules
}

func generated(_ leads: Int, seed: UInt64) -> [Envelope] {
    var events: [Envelope] = []
    Generator(leads: leads, seed: seed).generate { events.append($0) }
    return events
}

@Suite("Scoring in the store: live qualification, rescore, apply")
struct ScoringStoreTests {
    @Test func theSpecExampleDocumentLoadsUnchanged() throws {
        // The copy the demo and the bench publish is the spec's document, byte for byte.
        #expect(ExampleRules.spec == (try String(contentsOfFile: specRulesPath, encoding: .utf8)))
        let rules = try specRules()
        #expect(rules.version == "2026-11-a")
        #expect(rules.fit.count == 4)
        #expect(rules.behavior.count == 5)
    }

    @Test func aPublishedRuleQualifiesALeadAtTheCrossingEventAndStampsHandoffs() throws {
        let test = try TestStore()
        try test.store.publishRules(try specRules(), actor: "mops", at: Events.at("2026-01-01T00:00:00Z"))
        let outcomes = try test.append([
            Events.captured("L-1", at: "2026-03-01T00:00:00Z", extra: ["title": "Director of Marketing", "employees": 500, "industry": "software"]),
            Events.event(.touchEmailClick, "L-1", id: "c1", at: "2026-03-02T00:00:00Z", ["channel": "email"]),
            Events.event(.touchWebinarAttended, "L-1", id: "w1", at: "2026-03-03T00:00:00Z", ["channel": "webinar"]),
            Events.event(.touchEmailClick, "L-1", id: "c2", at: "2026-03-04T00:00:00Z", ["channel": "email"]),
            Events.event(.leadHandedOff, "L-1", id: "h1", at: "2026-03-05T00:00:00Z", actor: "mops", ["to": "ae-1"]),
        ])
        // fit 40; +3 (42.9), +15 (57.8…), +3 crosses 60 at c2: the engine's lead.qualified follows c2.
        #expect(outcomes.map(\.position) == [2, 3, 4, 5, 7])
        let qualified = try #require(try test.store.log.record(at: 6))
        let event = try LeadStore.event(from: qualified)
        #expect(event.type == .leadQualified)
        #expect(event.id == "c2#mql")
        #expect(event.at == Events.at("2026-03-04T00:00:00Z"))
        #expect(event.actor == "leadledger-scoring")
        #expect(event.data["by"] == "rules")
        #expect(event.data["rulesVersion"] == "2026-11-a")
        #expect((event.data["score"]?.doubleValue ?? 0) >= 60)
        let state = try #require(try test.store.lead("L-1"))
        #expect(state.stage == .mql)
        #expect(state.firstQualifiedAt == Events.at("2026-03-04T00:00:00Z"))
        // The handoff carries the score at its time and the rules version.
        let handoff = try LeadStore.event(from: #require(try test.store.log.record(at: 7)))
        #expect(handoff.data["rulesVersion"] == "2026-11-a")
        let stamped = try #require(handoff.data["score"]?.doubleValue)
        let expected = try #require(try test.store.score(of: "L-1", asOf: Events.at("2026-03-05T00:00:00Z")))
        #expect(abs(stamped - expected.score) < 1e-9)
    }

    @Test func withoutRulesHandoffsAreStampedWithNulls() throws {
        let test = try TestStore()
        try test.append(Start.handedOffEvents)
        let handoff = try LeadStore.event(from: #require(try test.store.log.record(at: 3)))
        #expect(handoff.data["score"] == .null)
        #expect(handoff.data["rulesVersion"] == .null)
    }

    @Test func rescoreEqualsAFreshStoreThatHadTheNewRulesFromTheStart() throws {
        let events = generated(400, seed: 17)
        let old = try TestStore("old")
        try old.store.publishRules(try specRules(), actor: "mops", at: Events.at("2025-12-01T00:00:00Z"))
        _ = try old.append(events)
        let report = try old.store.rescore(with: try easierRules(), asOf: Events.at("2026-12-01T00:00:00Z"))
        #expect(report.rulesVersion == "2026-11-b")
        #expect(report.baseVersion == "2026-11-a")

        let fresh = try TestStore("fresh")
        try fresh.store.publishRules(try easierRules(), actor: "mops", at: Events.at("2025-12-01T00:00:00Z"))
        _ = try fresh.append(events)

        var before: [String: Timestamp] = [:]
        try old.store.forEachLead { before[$0.lead] = $0.firstQualifiedAt }
        var after: [String: Timestamp] = [:]
        try fresh.store.forEachLead { after[$0.lead] = $0.firstQualifiedAt }
        let leads = Set(before.keys).union(after.keys).sorted()
        #expect(report.newlyQualified == leads.filter { before[$0] == nil && after[$0] != nil })
        #expect(report.noLongerQualified == leads.filter { before[$0] != nil && after[$0] == nil })
        #expect(report.moved.map(\.lead) == leads.filter { before[$0] != nil && after[$0] != nil && before[$0] != after[$0] })
        #expect(report.moved.allSatisfy { after[$0.lead] == $0.to && before[$0.lead] == $0.from })
        // The scenario is not trivial: the easier rules change many leads.
        #expect(report.newlyQualified.count + report.moved.count > 20)

        // Twice, the same answer.
        #expect(try old.store.rescore(with: try easierRules(), asOf: Events.at("2026-12-01T00:00:00Z")) == report)
    }

    @Test(arguments: [false, true])
    func rescoreDistributionsAreEveryLeadsScoreUnderEachRules(changedFit: Bool) throws {
        let test = try TestStore()
        try test.store.publishRules(try specRules(), actor: "mops", at: Events.at("2025-12-01T00:00:00Z"))
        _ = try test.append(generated(300, seed: 31))
        var proposed = try easierRules()
        if changedFit {
            // A fit rule changed: the rules in force must score profiles with their own.
            var document = proposed.document
            document["fit"] = [["when": ["field": "employees", "gte": 50], "points": 25]]
            proposed = try ScoringRules(document: .object(document))
        }
        let time = Events.at("2026-12-01T00:00:00Z")
        let report = try test.store.rescore(with: proposed, asOf: time)

        // Each lead's score now, evaluated from its whole history under each rules document.
        var current: [Double] = []
        var simulated: [Double] = []
        let now = Scorer(try specRules())
        let next = Scorer(proposed)
        try test.store.forEachLead { state in
            let history = try test.store.history(of: state.lead).map { (position: $0.position, event: $0.event) }
            current.append(now.evaluate(profile: state.profile, matches: now.matches(of: history), at: time).score)
            simulated.append(next.evaluate(profile: state.profile, matches: next.matches(of: history), at: time).score)
        }
        let edges = (-2...2).map { proposed.mqlThreshold + Double($0) * 20 }
        func counts(_ scores: [Double]) -> [Int] {
            (0...edges.count).map { bucket in
                scores.filter { score in (edges.firstIndex { score < $0 } ?? edges.count) == bucket }.count
            }
        }
        #expect(report.distribution.map(\.current) == counts(current).map(Optional.some))
        // (The simulation's scores leave out the engine's own qualifications, which score nothing.)
        #expect(report.distribution.map(\.proposed) == counts(simulated))
        #expect(Set(counts(current)).count > 2)
    }

    /// `rescore --apply` killed after publishing and before its qualifications: a re-run with
    /// the same document qualifies exactly whom an uninterrupted apply qualifies.
    @Test func anApplyInterruptedAfterPublishingResumes() throws {
        let events = generated(200, seed: 23)
        let now = Events.at("2026-11-20T00:00:00Z")
        let whole = try TestStore()
        _ = try whole.append(events)
        let expected = try whole.store.apply(try easierRules(), actor: "mops", at: now)
        #expect(!expected.isEmpty)

        let interrupted = try TestStore()
        _ = try interrupted.append(events)
        try interrupted.store.publishRules(try easierRules(), actor: "mops", at: now)
        let resumed = try interrupted.store.apply(try easierRules(), actor: "mops", at: now)
        #expect(resumed == expected)
        #expect(try interrupted.store.projectionSnapshot().map(\.value) == whole.store.projectionSnapshot().map(\.value))
    }

    @Test func applyPublishesQualifiesAndKeepsEveryEarlierEventByteIdentical() throws {
        let test = try TestStore()
        _ = try test.append(generated(200, seed: 23))
        let before = try test.store.log.records(from: 1, limit: 1_000_000)
        let lastBefore = try test.store.log.lastPosition
        let now = Events.at("2026-11-20T00:00:00Z")
        let qualified = try test.store.apply(try easierRules(), actor: "mops", at: now)
        let afterApply = try test.store.log.lastPosition

        let after = try test.store.log.records(from: 1, limit: Int(lastBefore))
        #expect(after == before)
        #expect(try test.store.currentRules()?.version == "2026-11-b")
        #expect(try test.store.log.verify().isValid)
        // Every lead it qualified was in lead or recycled and now reaches the threshold.
        for lead in qualified {
            let state = try #require(try test.store.lead(lead))
            #expect(state.stage == .mql)
            #expect(state.stages.last?.at == now)
            #expect((try test.store.score(of: lead, asOf: now)?.score ?? 0) >= 40)
        }
        // The same document again resumes (an interrupted --apply): nobody qualifies twice.
        #expect(try test.store.apply(try easierRules(), actor: "mops", at: now).isEmpty)
        #expect(try test.store.log.lastPosition == afterApply)
        // Another document under the same version is refused.
        var changed = try easierRules().document
        changed["mql_threshold"] = .number(41)
        let other = try ScoringRules(document: .object(changed))
        #expect(throws: ScoringError.alreadyPublished(version: "2026-11-b")) {
            _ = try test.store.apply(other, actor: "mops", at: now)
        }
    }

    @Test func theLiveProjectionWithRulesEqualsARebuild() throws {
        let test = try TestStore()
        let events = generated(300, seed: 29)
        _ = try test.append(Array(events.prefix(2_000)))
        try test.store.publishRules(try specRules(), actor: "mops", at: Events.at("2026-06-01T00:00:00Z"))
        for start in stride(from: 2_000, to: events.count, by: 900) {
            _ = try test.append(Array(events[start..<min(start + 900, events.count)]))
        }
        let live = try test.store.projectionSnapshot()
        try test.store.rebuildProjections()
        let rebuilt = try test.store.projectionSnapshot()
        #expect(rebuilt.map(\.key) == live.map(\.key))
        #expect(rebuilt.map(\.value) == live.map(\.value))
    }

    @Test func scoresMatchTheIndependentReferenceImplementation() throws {
        let dir = TemporaryDirectory("reference")
        let events = generated(300, seed: 31)
        let input = try dir.write("events.jsonl", events.map(Events.line).joined(separator: "\n") + "\n")
        let test = try TestStore()
        let outcomes = try test.append(events)
        #expect(outcomes.allSatisfy { $0.position != nil })
        try test.store.publishRules(try specRules(), actor: "mops", at: Events.at("2026-11-01T00:00:00Z"))

        for asOf in ["2026-04-15T12:00:00Z", "2026-09-30T00:00:00Z"] {
            let reference = try runReference(["--rules", specRulesPath, "--events", input, "--as-of", asOf])
            let leads = try #require(reference["leads"]?.objectValue)
            #expect(leads.count > 50)
            for (lead, expected) in leads {
                let actual = try #require(try test.store.score(of: lead, asOf: Events.at(asOf)), "no score for \(lead)")
                #expect(abs(actual.score - (expected["score"]?.doubleValue ?? .nan)) < 1e-6, "\(lead) at \(asOf)")
                #expect(abs(actual.fit - (expected["fit"]?.doubleValue ?? .nan)) < 1e-9, "\(lead) fit")
            }
        }
    }
}

func runReference(_ arguments: [String]) throws -> JSONValue {
    try PythonTool.json("reference_scoring.py", arguments)
}

enum Start {
    static let handedOffEvents = [
        Events.captured("L-1"),
        Events.event(.leadQualified, "L-1", id: "q", at: "2026-03-02T00:00:00Z", ["by": "manual"]),
        Events.event(.leadHandedOff, "L-1", id: "h", at: "2026-03-03T00:00:00Z", actor: "mops", ["to": "ae"]),
    ]
}

@Suite("Rules documents: the engine agrees with Schemas/examples/rules")
struct RulesContractTests {
    static let folder = URL(fileURLWithPath: specRulesPath).deletingLastPathComponent().deletingLastPathComponent()

    static func files(_ kind: String) -> [String] {
        let directory = folder.appendingPathComponent(kind)
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { directory.appendingPathComponent($0).path }
    }

    /// The two tests below get one case per file: if the folder moved they would run none,
    /// and pass. (Today: 5 valid and 31 invalid documents.)
    @Test func theExamplesAreFound() {
        #expect(Self.files("valid").count >= 5, "rules examples missing from \(Self.folder.path)/valid")
        #expect(Self.files("invalid").count >= 30, "rules examples missing from \(Self.folder.path)/invalid")
        #expect(Self.files("valid").contains(specRulesPath))
    }

    @Test(arguments: files("valid"))
    func validDocumentsLoad(path: String) throws {
        _ = try RulesDocument.load(path: path)
    }

    /// A rules document is JSON data (it is published as an event's `data`): YAML's `.inf`
    /// and `.nan` are refused, naming the line, and so are numbers no integer holds.
    @Test(arguments: [
        ("mql_threshold: .inf\n", "line 2: .inf is not a finite number"),
        ("mql_threshold: 60\nbehavior:\n  - event: touch.chat\n    points: .NaN\n", "line 5: .NaN is not a finite number"),
        ("mql_threshold: 60\nbehavior:\n  - event: touch.chat\n    points: 5\n    cap: { count: .inf, per_days: 3 }\n", "line 6: .inf is not a finite number"),
        ("mql_threshold: 60\nbehavior:\n  - event: touch.chat\n    points: 5\n    cap: { count: 1e30, per_days: 3 }\n", #"field "cap.count": required, a whole number from 1 to 1,000,000"#),
        ("mql_threshold: 60\nbehavior:\n  - event: touch.chat\n    points: 5\n    cap: { count: 2, per_days: 1e300 }\n", #"field "cap.per_days": required, a number of days > 0 and at most 36,500"#),
    ])
    func numbersNoScoreCanUseAreRefused(body: String, message: String) {
        let error = #expect(throws: RulesDocument.Failure.self) { _ = try RulesDocument.parse("version: v\n" + body, path: "r.yaml") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    /// Found by the rules fuzz target: YAML's `.inf` and `.nan` (and floats too large for a
    /// double) were taken as numbers JSON cannot hold: the rules were stored, then shown and
    /// read back as null, or scored every lead NaN.
    @Test(arguments: ["mql_threshold: .inf", "mql_threshold: -.Inf", "mql_threshold: .nan", "mql_threshold: 1.0e+400",
                      "mql_threshold: 1\nfit:\n  - when: { field: employees, gte: .nan }\n    points: 1",
                      "mql_threshold: 1\nbehavior:\n  - event: touch.chat\n    points: .inf"])
    func numbersJSONCannotHoldAreRefused(yaml: String) throws {
        let error = #expect(throws: RulesDocument.Failure.self) { _ = try RulesDocument.parse("version: v\n" + yaml, path: "r.yaml") }
        #expect(error?.message.contains("is not a finite number") == true, "\(String(describing: error))")
    }

    @Test(arguments: files("invalid"))
    func invalidDocumentsAreRefusedWithTheirPath(path: String) {
        let error = #expect(throws: RulesDocument.Failure.self) { _ = try RulesDocument.load(path: path) }
        #expect(error?.description.hasPrefix(path) == true)
    }
}
