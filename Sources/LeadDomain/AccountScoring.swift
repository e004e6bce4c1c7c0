import LedgerJSON

/// An account rule of a rules document (`account:`): points added to the account score (not
/// to its leads' scores) when every condition of `when` holds.
public struct AccountScoringRule: Sendable, Hashable {
    public var name: String?
    /// At least this many of the account's leads have a touch within `withinDays` days.
    public var engagedLeads: (gte: Int, withinDays: Double)?
    /// At least this many leads belong to the account.
    public var leads: Int?
    public var points: Double
    public var label: String

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.label == rhs.label && lhs.points == rhs.points && lhs.leads == rhs.leads
            && lhs.engagedLeads?.gte == rhs.engagedLeads?.gte && lhs.engagedLeads?.withinDays == rhs.engagedLeads?.withinDays
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(label)
        hasher.combine(points)
    }
}

/// The account-level parts of scoring: the account rules, the cap on the sum of its leads'
/// scores, its firmographics and its most advanced stage. Pure functions.
public enum AccountScoring {
    /// The cap on the sum of an account's leads' scores, unless the rules give
    /// `account_score_cap`.
    public static let defaultLeadScoreCap = 200.0

    /// The profile fields that describe a company rather than a person.
    public static let firmographicFields = ["company", "domain", "industry", "employees", "annualRevenue", "country", "region"]

    /// The account's firmographics: the group traits (`account` objects of its leads'
    /// profiles), then the firmographic fields of its leads' profiles, each field from the
    /// first lead (in id order) that has it.
    public static func firmographics(_ profiles: [JSONObject]) -> JSONObject {
        var result = JSONObject()
        for profile in profiles {
            guard let traits = profile["account"]?.objectValue else { continue }
            for member in traits where result[member.key] == nil { result[member.key] = member.value }
        }
        for field in firmographicFields {
            guard result[field] == nil else { continue }
            if let value = profiles.lazy.compactMap({ $0[field] }).first(where: { $0 != .null }) { result[field] = value }
        }
        return result
    }

    /// The most advanced of the stages (`Merge.advancement`; a tie goes to the stage listed
    /// first in `Stage`, so an open opportunity before a lost one).
    public static func mostAdvanced(_ stages: [Stage]) -> Stage {
        stages.min { a, b in
            let (left, right) = (Merge.advancement(a), Merge.advancement(b))
            return left != right ? left > right : a.code < b.code
        } ?? .lead
    }

    /// The account rules' points: `touchTimes` holds each lead's touch times (at or before
    /// `asOf`).
    public static func rulePoints(
        _ rules: [AccountScoringRule], touchTimes: [[Timestamp]], leadCount: Int, asOf: Timestamp
    ) -> (points: Double, hits: [(rule: String, points: Double)]) {
        var points = 0.0
        var hits: [(rule: String, points: Double)] = []
        for rule in rules {
            if let leads = rule.leads, leadCount < leads { continue }
            if let engaged = rule.engagedLeads {
                let since = asOf.microseconds - Int64((engaged.withinDays * 86_400_000_000).rounded())
                let count = touchTimes.filter { $0.contains { $0.microseconds > since } }.count
                if count < engaged.gte { continue }
            }
            points += rule.points
            hits.append((rule.label, rule.points))
        }
        return (points, hits)
    }

    /// Reads a document's `account` list (see `ScoringRules.init(document:)`).
    static func rules(_ value: JSONValue?) throws(RulesError) -> [AccountScoringRule] {
        guard let value, value != .null else { return [] }
        guard case .array(let items) = value else { throw RulesError(rule: nil, field: "account", message: "must be a list of rules") }
        var rules: [AccountScoringRule] = []
        for (index, item) in items.enumerated() {
            let label = "account[\(index)]"
            guard case .object(let rule) = item else { throw RulesError(rule: label, field: "(rule)", message: "must be a mapping with when and points") }
            for key in rule.keys where !["name", "when", "points"].contains(key) {
                throw RulesError(rule: label, field: key, message: "unknown key; an account rule has when, points and an optional name")
            }
            var name: String?
            switch rule["name"] {
            case nil: break
            case .string(let given)? where !given.isEmpty: name = given
            default: throw RulesError(rule: label, field: "name", message: "must be a non-empty string")
            }
            let shown = name ?? label
            guard case .number(let points)? = rule["points"] else {
                throw RulesError(rule: shown, field: "points", message: rule["points"] == nil ? "required" : "must be a number")
            }
            guard case .object(let when)? = rule["when"], !when.isEmpty else {
                throw RulesError(rule: shown, field: "when", message: "required: a mapping like { engagedLeads: { gte: 3, withinDays: 30 } }")
            }
            var parsed = AccountScoringRule(name: name, engagedLeads: nil, leads: nil, points: points, label: shown)
            for (key, condition) in when.members {
                guard case .object(let operators) = condition else {
                    throw RulesError(rule: shown, field: "when.\(key)", message: "must be a mapping like { gte: 3 }")
                }
                switch key {
                case "engagedLeads":
                    for op in operators.keys where op != "gte" && op != "withinDays" {
                        throw RulesError(rule: shown, field: "when.engagedLeads.\(op)", message: "unknown key; engagedLeads has gte and withinDays")
                    }
                    let gte = try count(operators["gte"], rule: shown, field: "when.engagedLeads.gte")
                    guard case .number(let days)? = operators["withinDays"], days > 0, days <= BehaviorRule.Cap.maximumDays else {
                        throw RulesError(rule: shown, field: "when.engagedLeads.withinDays", message: "required, a number of days > 0 and at most 36,500")
                    }
                    parsed.engagedLeads = (gte, days)
                case "leads":
                    for op in operators.keys where op != "gte" {
                        throw RulesError(rule: shown, field: "when.leads.\(op)", message: "unknown key; leads has gte")
                    }
                    parsed.leads = try count(operators["gte"], rule: shown, field: "when.leads.gte")
                default:
                    throw RulesError(rule: shown, field: "when.\(key)", message: "unknown condition; an account rule tests engagedLeads and leads")
                }
            }
            rules.append(parsed)
        }
        return rules
    }

    private static func count(_ value: JSONValue?, rule: String, field: String) throws(RulesError) -> Int {
        guard case .number(let number)? = value, number >= 0, number <= BehaviorRule.Cap.maximumCount, let count = Int(exactly: number) else {
            throw RulesError(rule: rule, field: field, message: "required, a whole number from 0 to 1,000,000")
        }
        return count
    }

    /// Reads a document's `account_score_cap`.
    static func cap(_ value: JSONValue?) throws(RulesError) -> Double {
        guard let value, value != .null else { return defaultLeadScoreCap }
        guard case .number(let cap) = value, cap >= 0 else {
            throw RulesError(rule: nil, field: "account_score_cap", message: "must be a number ≥ 0")
        }
        return cap
    }
}
