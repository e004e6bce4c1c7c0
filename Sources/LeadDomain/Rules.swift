import Foundation
import LedgerJSON

/// A scoring-rules document (SPEC section 4; schema: `Schemas/rules.schema.json`).
public struct ScoringRules: Sendable, Hashable {
    public var version: String
    public var mqlThreshold: Double
    /// Engagement points halve every this many days; `nil` means no decay.
    public var halfLifeDays: Double?
    public var fit: [FitRule]
    public var behavior: [BehaviorRule]
    /// Account rules (`AccountScoring`): points added to an account's score, not its leads'.
    public var account: [AccountScoringRule] = []
    /// The cap on the sum of an account's leads' scores in its account score.
    public var accountLeadScoreCap = AccountScoring.defaultLeadScoreCap
    /// The document as given (stored as the `rules.published` event's data).
    public var document: JSONObject

    public init(version: String, mqlThreshold: Double, halfLifeDays: Double? = nil, fit: [FitRule] = [], behavior: [BehaviorRule] = [], document: JSONObject = [:]) {
        self.version = version
        self.mqlThreshold = mqlThreshold
        self.halfLifeDays = halfLifeDays
        self.fit = fit
        self.behavior = behavior
        self.document = document
    }
}

/// Conditions on one value; every operator given must hold.
public struct Condition: Sendable, Hashable {
    public var matches: String?
    public var gte: Double?
    public var lte: Double?
    public var gt: Double?
    public var lt: Double?
    public var oneOf: [JSONValue]?
    public var equals: JSONValue?
    public var exists: Bool?
    public var contains: String?

    public init() {}
}

public struct FitRule: Sendable, Hashable {
    public var name: String?
    public var field: String
    public var condition: Condition
    public var points: Double
    /// `name`, else `fit[i]`: how explanations refer to the rule.
    public var label: String
}

public struct BehaviorRule: Sendable, Hashable {
    public struct Cap: Sendable, Hashable {
        public var count: Int
        public var perDays: Double

        /// The largest `count` and `perDays` a document may give (`rules.schema.json` says so too).
        public static let maximumCount = 1_000_000.0
        public static let maximumDays = 36_500.0

        public init(count: Int, perDays: Double) {
            self.count = count
            self.perDays = perDays
        }
    }

    public var name: String?
    public var event: EventType
    public var conditions: [(field: String, condition: Condition)]
    public var points: Double
    public var cap: Cap?
    /// `name`, else `behavior[i]`.
    public var label: String

    public static func == (lhs: BehaviorRule, rhs: BehaviorRule) -> Bool {
        lhs.name == rhs.name && lhs.event == rhs.event && lhs.points == rhs.points && lhs.cap == rhs.cap && lhs.label == rhs.label
            && lhs.conditions.count == rhs.conditions.count
            && zip(lhs.conditions, rhs.conditions).allSatisfy { $0.field == $1.field && $0.condition == $1.condition }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(label)
        hasher.combine(event)
        hasher.combine(points)
    }
}

/// A rules document that cannot be used: which rule, which field, and what is wrong.
public struct RulesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `fit[2]`, `behavior[0]`, or `nil` for the document's top level.
    public var rule: String?
    public var field: String
    public var message: String

    public var description: String {
        if let rule { return "rule \(rule), field \"\(field)\": \(message)" }
        return "field \"\(field)\": \(message)"
    }
}

extension ScoringRules {
    static let topLevelKeys: Set<String> = ["version", "mql_threshold", "decay", "fit", "behavior", "description", "account", "account_score_cap"]
    static let conditionOperators: Set<String> = ["matches", "gte", "lte", "gt", "lt", "in", "equals", "exists"]
    static let valueOperators: Set<String> = ["contains", "equals", "in", "matches"]

    /// Reads and checks a rules document (parsed from YAML or JSON).
    public init(document json: JSONValue) throws(RulesError) {
        guard case .object(let document) = json else {
            throw RulesError(rule: nil, field: "(document)", message: "a rules document is a mapping with version, mql_threshold, fit and behavior; found \(json.typeName)")
        }
        for key in document.keys where !Self.topLevelKeys.contains(key) {
            throw RulesError(rule: nil, field: key, message: "unknown key; a rules document has \(Self.topLevelKeys.sorted().joined(separator: ", "))")
        }
        guard case .string(let version)? = document["version"], !version.isEmpty else {
            throw RulesError(rule: nil, field: "version", message: document["version"] == nil ? "required" : "must be a non-empty string (quote it: version: \"2026-11-a\")")
        }
        guard case .number(let threshold)? = document["mql_threshold"] else {
            throw RulesError(rule: nil, field: "mql_threshold", message: document["mql_threshold"] == nil ? "required" : "must be a number")
        }
        var halfLife: Double?
        if let decay = document["decay"] {
            guard case .object(let decayObject) = decay else { throw RulesError(rule: nil, field: "decay", message: "must be a mapping like { half_life_days: 30 }") }
            for key in decayObject.keys where key != "half_life_days" {
                throw RulesError(rule: nil, field: "decay.\(key)", message: "unknown key; decay has half_life_days")
            }
            guard case .number(let days)? = decayObject["half_life_days"], days > 0 else {
                throw RulesError(rule: nil, field: "decay.half_life_days", message: "required, a number of days > 0")
            }
            halfLife = days
        }
        let fitRules = try Self.list(document, "fit")
        let behaviorRules = try Self.list(document, "behavior")
        self.init(
            version: version, mqlThreshold: threshold, halfLifeDays: halfLife,
            fit: try fitRules.enumerated().map { (index, value) throws(RulesError) in try Self.fitRule(value, index: index) },
            behavior: try behaviorRules.enumerated().map { (index, value) throws(RulesError) in try Self.behaviorRule(value, index: index) },
            document: document)
        account = try AccountScoring.rules(document["account"])
        accountLeadScoreCap = try AccountScoring.cap(document["account_score_cap"])
    }

    private static func list(_ document: JSONObject, _ key: String) throws(RulesError) -> [JSONValue] {
        switch document[key] {
        case nil, .null?: return []
        case .array(let items)?: return items
        default: throw RulesError(rule: nil, field: key, message: "must be a list of rules")
        }
    }

    private static func fitRule(_ value: JSONValue, index: Int) throws(RulesError) -> FitRule {
        let label = "fit[\(index)]"
        guard case .object(let rule) = value else { throw RulesError(rule: label, field: "(rule)", message: "must be a mapping with when and points") }
        for key in rule.keys where !["name", "when", "points"].contains(key) {
            throw RulesError(rule: label, field: key, message: "unknown key; a fit rule has when, points and an optional name")
        }
        let name = try optionalName(rule, label: label)
        guard case .object(let when)? = rule["when"] else {
            throw RulesError(rule: name ?? label, field: "when", message: rule["when"] == nil ? "required" : "must be a mapping like { field: title, matches: \"(?i)vp\" }")
        }
        guard case .string(let field)? = when["field"], !field.isEmpty else {
            throw RulesError(rule: name ?? label, field: "when.field", message: "required: the profile field to test")
        }
        var operators = when
        operators["field"] = nil
        let condition = try self.condition(operators, allowed: conditionOperators, rule: name ?? label, path: "when")
        return FitRule(name: name, field: field, condition: condition, points: try points(rule, label: name ?? label), label: name ?? label)
    }

    private static func behaviorRule(_ value: JSONValue, index: Int) throws(RulesError) -> BehaviorRule {
        let label = "behavior[\(index)]"
        guard case .object(let rule) = value else { throw RulesError(rule: label, field: "(rule)", message: "must be a mapping with event and points") }
        for key in rule.keys where !["name", "event", "where", "points", "cap"].contains(key) {
            throw RulesError(rule: label, field: key, message: "unknown key; a behavior rule has event, points and optional where, cap and name")
        }
        let name = try optionalName(rule, label: label)
        let shown = name ?? label
        guard case .string(let eventName)? = rule["event"] else {
            throw RulesError(rule: shown, field: "event", message: "required: an event type such as touch.webinar_attended")
        }
        guard let event = EventType(rawValue: eventName) else {
            throw RulesError(rule: shown, field: "event", message: "unknown event type \"\(eventName)\"")
        }
        var conditions: [(field: String, condition: Condition)] = []
        switch rule["where"] {
        case nil, .null?: break
        case .object(let clauses)?:
            for clause in clauses {
                guard case .object(let operators) = clause.value else {
                    throw RulesError(rule: shown, field: "where.\(clause.key)", message: "must be a mapping like { contains: \"/pricing\" }")
                }
                conditions.append((clause.key, try condition(operators, allowed: valueOperators, rule: shown, path: "where.\(clause.key)")))
            }
        default:
            throw RulesError(rule: shown, field: "where", message: "must be a mapping from data fields to conditions")
        }
        var cap: BehaviorRule.Cap?
        if let capValue = rule["cap"] {
            guard case .object(let capObject) = capValue else { throw RulesError(rule: shown, field: "cap", message: "must be a mapping like { count: 3, per_days: 30 }") }
            for key in capObject.keys where key != "count" && key != "per_days" {
                throw RulesError(rule: shown, field: "cap.\(key)", message: "unknown key; cap has count and per_days")
            }
            // (Bounded: a window is turned into microseconds, a count into an Int.)
            guard case .number(let number)? = capObject["count"], number >= 1, number <= BehaviorRule.Cap.maximumCount,
                  let count = Int(exactly: number) else {
                throw RulesError(rule: shown, field: "cap.count", message: "required, a whole number from 1 to 1,000,000")
            }
            guard case .number(let days)? = capObject["per_days"], days > 0, days <= BehaviorRule.Cap.maximumDays else {
                throw RulesError(rule: shown, field: "cap.per_days", message: "required, a number of days > 0 and at most 36,500")
            }
            cap = BehaviorRule.Cap(count: count, perDays: days)
        }
        return BehaviorRule(name: name, event: event, conditions: conditions, points: try points(rule, label: shown), cap: cap, label: shown)
    }

    private static func optionalName(_ rule: JSONObject, label: String) throws(RulesError) -> String? {
        switch rule["name"] {
        case nil: return nil
        case .string(let name)? where !name.isEmpty: return name
        default: throw RulesError(rule: label, field: "name", message: "must be a non-empty string")
        }
    }

    private static func points(_ rule: JSONObject, label: String) throws(RulesError) -> Double {
        guard case .number(let points)? = rule["points"] else {
            throw RulesError(rule: label, field: "points", message: rule["points"] == nil ? "required" : "must be a number (negative for penalties)")
        }
        return points
    }

    private static func condition(_ operators: JSONObject, allowed: Set<String>, rule: String, path: String) throws(RulesError) -> Condition {
        var condition = Condition()
        guard !operators.isEmpty else {
            throw RulesError(rule: rule, field: path, message: "needs at least one of \(allowed.sorted().joined(separator: ", "))")
        }
        for (key, value) in operators.members {
            let field = "\(path).\(key)"
            guard allowed.contains(key) else {
                throw RulesError(rule: rule, field: field, message: "unknown operator; use \(allowed.sorted().joined(separator: ", "))")
            }
            switch (key, value) {
            case ("matches", .string(let pattern)):
                guard (try? NSRegularExpression(pattern: pattern)) != nil else {
                    throw RulesError(rule: rule, field: field, message: "\"\(pattern)\" is not a valid regular expression")
                }
                condition.matches = pattern
            case ("contains", .string(let text)): condition.contains = text
            case ("gte", .number(let n)): condition.gte = n
            case ("lte", .number(let n)): condition.lte = n
            case ("gt", .number(let n)): condition.gt = n
            case ("lt", .number(let n)): condition.lt = n
            case ("exists", .bool(let flag)): condition.exists = flag
            case ("equals", .string), ("equals", .number), ("equals", .bool): condition.equals = value
            case ("in", .array(let items)):
                guard !items.isEmpty, items.allSatisfy({ if case .string = $0 { return true }; if case .number = $0 { return true }; if case .bool = $0 { return true }; return false }) else {
                    throw RulesError(rule: rule, field: field, message: "must be a non-empty list of strings, numbers or booleans")
                }
                condition.oneOf = items
            default:
                throw RulesError(rule: rule, field: field, message: "has the wrong type (\(value.typeName))")
            }
        }
        return condition
    }
}
