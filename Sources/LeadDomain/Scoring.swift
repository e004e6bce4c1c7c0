import Foundation
import LedgerJSON
import SimpleRegex
import Synchronization

/// A behavior rule matched by one of a lead's events (kept in the lead's state, so a score
/// can be evaluated at any time without re-reading the log).
public struct ScoreMatch: Sendable, Hashable {
    /// Index of the rule in `ScoringRules.behavior`.
    public var rule: Int
    public var at: Timestamp
    public var position: UInt64

    public init(rule: Int, at: Timestamp, position: UInt64) {
        self.rule = rule
        self.at = at
        self.position = position
    }

    static func < (lhs: ScoreMatch, rhs: ScoreMatch) -> Bool {
        (lhs.at, lhs.position, lhs.rule) < (rhs.at, rhs.position, rhs.rule)
    }
}

/// One line of a score explanation: a rule and the points it contributes at the reference
/// time (decayed, for behavior). Fit hits have no time or position.
public struct ScoreHit: Sendable, Hashable {
    public var rule: String
    public var points: Double
    public var at: Timestamp?
    public var position: UInt64?
}

public struct ScoreBreakdown: Sendable, Hashable {
    public var fit: Double
    public var engagement: Double
    public var score: Double { fit + engagement }
    /// Every rule that contributed, fit first (in rule order), then behavior in time order.
    public var hits: [ScoreHit]
}

/// Evaluates one rules document (SPEC section 4):
/// score(T) = Σ fit points on the profile + Σ over counted behavior hits with at ≤ T of
/// points × 2^(−age_days / half_life_days).
///
/// - A condition holds when all its operators hold; a missing (or null) field fails every
///   operator but `exists: false`. `matches` searches a string (like `re.search`), `contains`
///   is a case-sensitive substring test, `in`/`equals` compare exactly (numbers by value).
/// - Caps are a sliding window per rule: a hit counts when fewer than `count` hits of the
///   same rule were counted in the `per_days` days up to it (hits taken in time order).
/// - Regular expressions run as byte automata (`SimpleRegex`) when they are in its subset,
///   else through ICU (`NSRegularExpression`: about twice as fast as Swift's `Regex` on these
///   patterns), whose results are memoised per pattern and value (profiles repeat titles).
/// Thread-safe: ICU's expressions are only used under their memo's lock.
public final class Scorer: @unchecked Sendable {
    public let rules: ScoringRules
    /// Bit `code` set for each event type some behavior rule is about.
    private let scoredTypes: UInt32
    /// Per event type code, the behavior rules about it.
    private let rulesByType: [[Int]]
    /// The rules' conditions, resolved once and laid out for the checks run per lead and per
    /// event (reading them through `rules` copies each rule, strings and all).
    private let behaviorChecks: [[Check]]
    private let fitChecks: [Check]
    /// The fit rules' fields, for finding them all in one pass over a capture's data.
    private let fitFields: [EventView.Field]
    private let fitPointValues: [Double]

    /// One condition of a rule with what testing it needs: its field (with the field's stored
    /// key code), its compiled pattern and its tests on stored strings. A class, so that
    /// reading one from the arrays above does not copy the condition's strings and arrays.
    final class Check: Sendable {
        let field: EventView.Field
        let condition: Condition
        let regex: RegexMemo?
        let strings: StringTests

        init(field: String, condition: Condition) {
            self.field = EventView.Field(field)
            self.condition = condition
            regex = condition.matches.flatMap(RegexMemo.of)
            strings = StringTests(condition)
        }
    }

    public init(_ rules: ScoringRules) {
        self.rules = rules
        scoredTypes = rules.behavior.reduce(0) { $0 | (1 << UInt32($1.event.code)) }
        var byType = Array(repeating: [Int](), count: EventType.allCases.count)
        for (index, rule) in rules.behavior.enumerated() { byType[Int(rule.event.code)].append(index) }
        rulesByType = byType
        behaviorChecks = rules.behavior.map { $0.conditions.map { Check(field: $0.field, condition: $0.condition) } }
        fitChecks = rules.fit.map { Check(field: $0.field, condition: $0.condition) }
        fitFields = fitChecks.map(\.field)
        fitPointValues = rules.fit.map(\.points)
    }

    // MARK: Matching

    /// Indices of the behavior rules that `event` matches.
    public func matchingRules(_ event: Envelope) -> [Int] {
        var result: [Int] = []
        for (index, rule) in rules.behavior.enumerated() where rule.event == event.type {
            let checks = behaviorChecks[index]
            if checks.allSatisfy({ holds($0, on: event.data[$0.field.name]) }) { result.append(index) }
        }
        return result
    }

    /// Whether behavior rule `index` holds on a stored event, reading only the data fields
    /// its conditions test.
    private func behaviorRule(_ index: Int, holdsOn view: EventView) -> Bool {
        for check in behaviorChecks[index] where !holds(check, on: view.stored(check.field), in: view) {
            return false
        }
        return true
    }

    /// Whether any behavior rule is about this event type (most touches are not scored).
    public func scores(_ type: EventType) -> Bool {
        scoredTypes & (1 << UInt32(type.code)) != 0
    }

    /// Adds a stored event's matches to a lead's sorted match list.
    public func record(_ view: EventView, position: UInt64, into matches: inout [ScoreMatch]) {
        guard scores(view.type) else { return }
        for rule in rulesByType[Int(view.type.code)] where behaviorRule(rule, holdsOn: view) {
            insert(ScoreMatch(rule: rule, at: view.at, position: position), into: &matches)
        }
    }

    private func insert(_ match: ScoreMatch, into matches: inout [ScoreMatch]) {
        var index = matches.count
        while index > 0 && match < matches[index - 1] { index -= 1 }
        // Usually the newest: appended (`insert` at the end goes through `replaceSubrange`).
        if index == matches.count { matches.append(match) } else { matches.insert(match, at: index) }
    }

    /// Adds the event's matches to a lead's sorted match list.
    public func record(_ event: Envelope, position: UInt64, into matches: inout [ScoreMatch]) {
        for rule in matchingRules(event) {
            // Usually the newest: inserted from the end.
            insert(ScoreMatch(rule: rule, at: event.at, position: position), into: &matches)
        }
    }

    /// The fit rules that hold on `profile`, with their points.
    public func fitHits(_ profile: JSONObject) -> [(rule: Int, points: Double)] {
        fitChecks.indices.compactMap { fitRule($0, holdsOn: profile) ? ($0, fitPointValues[$0]) : nil }
    }

    /// The fit points of a profile that is a stored event's data (a capture's), read in place:
    /// the fields found in one pass, strings tested on their bytes.
    public func fitPoints(_ view: EventView) -> Double {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: fitChecks.count) { offsets in
            view.locate(fitFields, into: offsets)
            var points = 0.0
            for index in fitChecks.indices where holds(fitChecks[index], on: view.stored(at: offsets[index]), in: view) {
                points += fitPointValues[index]
            }
            return points
        }
    }

    private func fitRule(_ index: Int, holdsOn profile: JSONObject) -> Bool {
        holds(fitChecks[index], on: profile[fitChecks[index].field.name])
    }

    private func holds(_ check: Check, on value: JSONValue?) -> Bool {
        holds(check.condition, on: value, regex: check.regex)
    }

    func holds(_ condition: Condition, on value: JSONValue?, regex: RegexMemo?) -> Bool {
        let present: JSONValue? = value == .null ? nil : value
        if let exists = condition.exists, exists != (present != nil) { return false }
        guard let value = present else {
            // Only `exists: false` can hold on a missing field.
            return condition.exists == false && condition.matches == nil && condition.contains == nil && condition.gte == nil
                && condition.lte == nil && condition.gt == nil && condition.lt == nil && condition.oneOf == nil && condition.equals == nil
        }
        if condition.matches != nil {
            guard case .string(let text) = value, let regex, regex.search(text) else { return false }
        }
        if let needle = condition.contains {
            guard case .string(let text) = value, Self.contains(text, needle) else { return false }
        }
        if condition.gte != nil || condition.lte != nil || condition.gt != nil || condition.lt != nil {
            guard case .number(let number) = value else { return false }
            if let bound = condition.gte, !(number >= bound) { return false }
            if let bound = condition.lte, !(number <= bound) { return false }
            if let bound = condition.gt, !(number > bound) { return false }
            if let bound = condition.lt, !(number < bound) { return false }
        }
        if let options = condition.oneOf, !options.contains(value) { return false }
        if let expected = condition.equals, expected != value { return false }
        return true
    }

    /// `holds(_:on:regex:)` on a stored value, without decoding a string or a number: what
    /// the check's `StringTests` can answer on a string's bytes is answered there, the rest
    /// decodes the value.
    private func holds(_ check: Check, on value: EventView.Stored, in view: EventView) -> Bool {
        switch value {
        case .missing:
            return holds(check, on: nil)
        case .number(let number):
            return holds(check, on: .number(number))
        case .string(let bytes):
            if let answer = check.strings.holds(on: bytes, regex: check.regex) { return answer }
            return holds(check, on: .string(String(decoding: bytes, as: UTF8.self)))
        case .other(let offset):
            return holds(check, on: view.value(at: offset))
        }
    }

    /// A byte-wise substring test (the standard library's generic search is slow here).
    static func contains(_ text: String, _ needle: String) -> Bool {
        var text = text
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { contains(UnsafeRawBufferPointer(haystack), UnsafeRawBufferPointer($0)) }
        }
    }

    static func contains(_ haystack: UnsafeRawBufferPointer, _ wanted: UnsafeRawBufferPointer) -> Bool {
        if wanted.isEmpty { return true }
        guard haystack.count >= wanted.count, let text = haystack.baseAddress, let needle = wanted.baseAddress else { return false }
        let first = wanted[0]
        var index = 0
        let last = haystack.count - wanted.count
        while index <= last {
            if haystack[index] == first && memcmp(text + index, needle, wanted.count) == 0 { return true }
            index += 1
        }
        return false
    }

    // MARK: Evaluating

    /// The score at `time` of a lead with this profile and these (sorted) matches.
    public func evaluate(profile: JSONObject, matches: [ScoreMatch], at time: Timestamp, explain: Bool = false) -> ScoreBreakdown {
        var hits: [ScoreHit] = []
        var fit = 0.0
        for (index, points) in fitHits(profile) {
            fit += points
            if explain { hits.append(ScoreHit(rule: rules.fit[index].label, points: points, at: nil, position: nil)) }
        }
        var result = evaluate(fit: fit, matches: matches, at: time, explain: explain)
        result.hits = hits + result.hits
        return result
    }

    /// The fit points of a profile (they change only when the profile does: callers that
    /// evaluate a lead often keep them).
    public func fitPoints(_ profile: JSONObject) -> Double {
        var points = 0.0
        for index in fitChecks.indices where fitRule(index, holdsOn: profile) {
            points += fitPointValues[index]
        }
        return points
    }

    /// The score from known fit points and the matches.
    public func evaluate(fit: Double, matches: [ScoreMatch], at time: Timestamp, explain: Bool = false) -> ScoreBreakdown {
        var hits: [ScoreHit] = []
        var engagement = 0.0
        // Which matches were counted (a capped rule's window looks back at its counted hits):
        // flags in temporary storage, usually on the stack, for the few matches a lead has.
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: matches.count) { counted in
            for index in matches.indices {
                let match = matches[index]
                guard match.at <= time else { break }
                let rule = rules.behavior[match.rule]
                counted[index] = false
                if let cap = rule.cap {
                    // The window in microseconds. One longer than Int64 holds (per_days past
                    // about 100 million) is longer than any two times are apart, and is not
                    // converted: that trapped, on every scored event once such rules were published.
                    let window = cap.perDays * Double(Timestamp.microsecondsPerDay)
                    let windowMicros = window < 9.2e18 ? Int64(window) : Int64.max
                    // The same rule's counted hits in the window: matches are in time order,
                    // so they are the ones just before this one.
                    var recent = 0
                    var earlier = index - 1
                    while earlier >= 0 && match.at.microseconds - matches[earlier].at.microseconds < windowMicros {
                        if counted[earlier] && matches[earlier].rule == match.rule { recent += 1 }
                        earlier -= 1
                    }
                    guard recent < cap.count else { continue }
                }
                counted[index] = true
                let points = rule.points * decay(from: match.at, to: time)
                engagement += points
                if explain { hits.append(ScoreHit(rule: rule.label, points: points, at: match.at, position: match.position)) }
            }
        }
        return ScoreBreakdown(fit: fit, engagement: engagement, hits: hits)
    }

    func decay(from at: Timestamp, to time: Timestamp) -> Double {
        guard let halfLife = rules.halfLifeDays else { return 1 }
        return Double.pow2(-at.days(until: time) / halfLife)
    }

    /// Matches for a whole event history (for explanations and replays).
    public func matches(of events: [(position: UInt64, event: Envelope)]) -> [ScoreMatch] {
        var matches: [ScoreMatch] = []
        for (position, event) in events { record(event, position: position, into: &matches) }
        return matches
    }
}

/// A condition's tests on a string value, run on its stored UTF-8 bytes: a scoring rule runs
/// on every capture and on every scored touch, and making each value a `String` was most of
/// its cost. Each answer is the one `Scorer.holds(_:on:regex:)` gives on the decoded string;
/// when it could differ, `holds(on:regex:)` gives none and the caller decodes:
/// - `matches` is left to the decoded string when the automaton cannot answer on the bytes
///   (an ICU pattern, or non-ASCII text it cannot decide);
/// - `in`/`equals` compare bytes only when both sides are ASCII: Swift compares strings by
///   canonical equivalence, under which distinct byte sequences can be equal (the Kelvin sign
///   U+212A equals "K").
struct StringTests: Sendable {
    /// The condition cannot hold on any string (a bound, `exists: false`, or an `equals` that
    /// is not a string).
    let neverOnStrings: Bool
    let contains: [UInt8]?
    /// `in`'s string options, as UTF-8; nil without `in`.
    let oneOf: [[UInt8]]?
    /// `equals`' string, as UTF-8; nil without `equals`.
    let equals: [UInt8]?
    /// Every option of `in` and `equals` is ASCII.
    let asciiOptions: Bool
    let matches: Bool

    init(_ condition: Condition) {
        let bounded = condition.gte != nil || condition.lte != nil || condition.gt != nil || condition.lt != nil
        var equalsNonString = false
        if let expected = condition.equals {
            if case .string(let text) = expected { equals = Array(text.utf8) } else { equals = nil; equalsNonString = true }
        } else {
            equals = nil
        }
        neverOnStrings = bounded || condition.exists == false || equalsNonString
        contains = condition.contains.map { Array($0.utf8) }
        oneOf = condition.oneOf.map { options in options.compactMap { if case .string(let text) = $0 { Array(text.utf8) } else { nil } } }
        asciiOptions = ((oneOf ?? []) + (equals.map { [$0] } ?? [])).allSatisfy { $0.allSatisfy { $0 < 0x80 } }
        matches = condition.matches != nil
    }

    /// The condition's answer on a string stored as `bytes`, or nil when only the decoded
    /// string can tell.
    func holds(on bytes: UnsafeRawBufferPointer, regex: RegexMemo?) -> Bool? {
        if neverOnStrings { return false }
        if oneOf != nil || equals != nil {
            guard asciiOptions, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        }
        if matches {
            guard let regex else { return false }
            guard let found = regex.search(bytes) else { return nil }
            if !found { return false }
        }
        if let contains, !contains.withUnsafeBytes({ Scorer.contains(bytes, $0) }) { return false }
        if let oneOf, !oneOf.contains(where: { $0.elementsEqual(bytes) }) { return false }
        if let equals, !equals.elementsEqual(bytes) { return false }
        return true
    }
}

/// A compiled pattern: the byte automaton of `SimpleRegex` when the pattern is in its subset
/// (a few instructions a byte, no lock), and ICU's with the results it gave by value, for the
/// rest and for the texts the automaton leaves to ICU. One per pattern in the process, shared
/// by every scorer (rules documents that differ elsewhere usually share their fit patterns,
/// and a rescore evaluates the same profiles under two of them).
final class RegexMemo: @unchecked Sendable {
    private let automaton: SimpleRegex?
    private let regex: NSRegularExpression
    private let results = Mutex<[String: Bool]>([:])
    private static let all = Mutex<[String: RegexMemo]>([:])

    private init(_ regex: NSRegularExpression, pattern: String) {
        self.regex = regex
        automaton = SimpleRegex(pattern)
    }

    /// The memo of `pattern`, or `nil` if it does not compile (rules documents are
    /// validated before a scorer is made).
    static func of(_ pattern: String) -> RegexMemo? {
        all.withLock { all in
            if let known = all[pattern] { return known }
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
            let memo = RegexMemo(regex, pattern: pattern)
            all[pattern] = memo
            return memo
        }
    }

    /// Whether the pattern matches somewhere in the UTF-8 `text`, when the automaton can tell
    /// (nil: ask `search(_:)` with the decoded string).
    func search(_ text: UnsafeRawBufferPointer) -> Bool? {
        automaton?.search(text)
    }

    /// Whether the pattern matches somewhere in `text` (like `re.search`).
    func search(_ text: String) -> Bool {
        if let found = automaton?.search(text) { return found }
        return results.withLock { results in
            if let known = results[text] { return known }
            let found = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            // Unique values (e-mail addresses) would otherwise grow it without end.
            if results.count >= 250_000 { results.removeAll(keepingCapacity: true) }
            results[text] = found
            return found
        }
    }
}

extension Double {
    /// 2 to the power `exponent`: the decay factor of scores and time-decay attribution.
    public static func pow2(_ exponent: Double) -> Double {
        #if canImport(Glibc)
        return Glibc.exp2(exponent)
        #else
        return Darwin.exp2(exponent)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When live scoring qualifies a lead (SPEC section 4, with these decisions):
/// - a lead is evaluated after its capture and after every event that does not change its
///   stage (touches, enrichment, unsubscribes…): a sales rejection that recycles a lead does
///   not by itself re-qualify it, its next engagement does if the score is still high;
/// - the evaluation time is the event's `at`, but never before the lead entered its current
///   stage (a late pre-capture touch is scored at the capture);
/// - only a lead in `lead` or `recycled` can qualify.
public enum LiveScoring {
    public static let actor = "leadledger-scoring"

    /// The qualification, if any, of a lead in `stage` since `enteredAt`, with these matches
    /// and fit points, after an event at `at` that can trigger one (the parts of the state
    /// passed apart, so that a rescore does not copy the whole state for each touch).
    public static func qualification(at: Timestamp, stage: Stage, enteredAt: Timestamp, matches: [ScoreMatch], fit: Double, scorer: Scorer) -> (score: Double, at: Timestamp)? {
        guard stage == .lead || stage == .recycled else { return nil }
        let time = max(at, enteredAt)
        let score = scorer.evaluate(fit: fit, matches: matches, at: time).score
        return score >= scorer.rules.mqlThreshold ? (score, time) : nil
    }

    public static func triggers(_ type: EventType) -> Bool {
        switch type {
        case .leadQualified, .leadHandedOff, .salesAccepted, .salesRejected, .salesQualified, .opportunityOpened,
             .dealClosed, .leadRecycled, .leadDisqualified, .rulesPublished:
            return false
        default:
            return true
        }
    }

    /// The qualification `event` (already applied to `state`) triggers, if any.
    public static func qualification(after event: Envelope, state: LeadState, scorer: Scorer) -> (score: Double, at: Timestamp)? {
        qualification(after: event.type, at: event.at, state: state, scorer: scorer)
    }

    /// The qualification an event of `type` at `at` (already applied to `state`) triggers.
    /// (Callers that evaluate a lead often keep its fit points and call the function above:
    /// the fit rules' regular expressions are the costly part.)
    public static func qualification(after type: EventType, at: Timestamp, state: LeadState, scorer: Scorer) -> (score: Double, at: Timestamp)? {
        guard triggers(type) else { return nil }
        return qualification(
            at: at, stage: state.stage, enteredAt: state.stageEnteredAt, matches: state.matches,
            fit: scorer.fitPoints(state.profile), scorer: scorer)
    }

    /// The `lead.qualified` event the engine appends. Its id is derived from the triggering
    /// event, so replaying the same input gives the same ids.
    public static func qualifiedEvent(lead: String, trigger: String, score: Double, at: Timestamp, rulesVersion: String) -> Envelope {
        Envelope(
            id: "\(trigger)#mql", type: .leadQualified, lead: lead, at: at, actor: actor,
            data: ["score": .number(score), "rulesVersion": .string(rulesVersion), "by": "rules"])
    }
}
