import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// One lead of an account, as `account show` lists it.
public struct AccountLead: Sendable, Hashable {
    public var lead: String
    public var stage: Stage
    /// Its score now under the rules in force (`nil` without rules).
    public var score: Double?
    /// Its latest touchpoint (a touch, or a capture with a channel) at or before `asOf`.
    public var lastTouchAt: Timestamp?
    /// A touch within the engagement window.
    public var engaged: Bool
    /// Assigned by an event (`accountId`, `account`) rather than by the domain rule.
    public var explicit: Bool
}

/// An account's opportunities, counted once each (by opportunity id, over its leads).
public struct AccountOpportunities: Sendable, Hashable {
    public var open = 0
    public var openAmount = 0.0
    public var won = 0
    public var wonAmount = 0.0

    public init(open: Int = 0, openAmount: Double = 0, won: Int = 0, wonAmount: Double = 0) {
        self.open = open
        self.openAmount = openAmount
        self.won = won
        self.wonAmount = wonAmount
    }
}

/// The account score (docs/lead-data.md, "Account score"): min(cap, sum of its leads'
/// scores) + the rules' fit points on the account's firmographics + its account rules' points.
public struct AccountScore: Sendable, Hashable {
    public var leadScores: Double
    public var cap: Double
    public var fit: Double
    public var rules: Double
    public var hits: [(rule: String, points: Double)]
    public var total: Double { min(cap, leadScores) + fit + rules }

    public static func == (lhs: AccountScore, rhs: AccountScore) -> Bool {
        lhs.leadScores == rhs.leadScores && lhs.cap == rhs.cap && lhs.fit == rhs.fit && lhs.rules == rhs.rules
            && lhs.hits.map(\.rule) == rhs.hits.map(\.rule) && lhs.hits.map(\.points) == rhs.hits.map(\.points)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(total)
    }
}

/// `account show`: an account's leads and what they add up to.
public struct AccountSummary: Sendable, Hashable {
    /// The engagement window: a lead with a touch in the days up to `asOf` is engaged.
    public static let engagementDays = 90

    public var account: String
    public var leads: [AccountLead]
    public var mostAdvancedStage: Stage
    public var engagedLeads: Int
    public var asOf: Timestamp
    /// The account's firmographics: its group traits, then its leads' company fields.
    public var firmographics: JSONObject
    /// `nil` without published rules.
    public var score: AccountScore?
    public var opportunities: AccountOpportunities
}

public enum AccountError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case damagedIndex
    case noIndex

    public var description: String {
        switch self {
        case .unknown(let account): return "account \(account) is unknown (no lead belongs to it)"
        case .damagedIndex: return "the accounts index has a key without its separator; run `leadledger rebuild`"
        case .noIndex: return "the store's projections predate accounts; run `leadledger rebuild` (or open the store once for writing)"
        }
    }
}

extension LeadStore {
    /// The leads of `account` in id order (empty for an unknown account), from the index.
    public func leads(ofAccount account: String) throws -> [String] {
        let table: Table
        do {
            table = try log.environment.table(projectionTables.accounts)
        } catch {
            throw AccountError.noIndex
        }
        return try log.environment.read { txn in try AccountIndex.leads(of: account, in: table, txn: txn) }
    }

    /// Every account with its leads, in account order.
    public func forEachAccount(_ body: (String, [String]) throws -> Void) throws {
        let table: Table
        do {
            table = try log.environment.table(projectionTables.accounts)
        } catch {
            throw AccountError.noIndex
        }
        try log.environment.read { txn in try AccountIndex.forEachAccount(in: table, txn: txn, body) }
    }

    /// `account show`: reads the account's leads from the index, and each lead's events (its
    /// own stream, with what merged into it) for touches and opportunities — never the
    /// whole log. `asOf` ends the engagement window (default: now); stages, scores and
    /// opportunities are current.
    public func account(_ account: String, asOf: Timestamp? = nil) throws -> AccountSummary {
        let members = try leads(ofAccount: account)
        guard !members.isEmpty else { throw AccountError.unknown(account) }
        let asOf = asOf ?? .now
        let rules = try currentRules()
        let scorer = rules.map(Scorer.init)
        let since = Timestamp(microseconds: asOf.microseconds - Int64(AccountSummary.engagementDays) * 86_400_000_000)
        var leads: [AccountLead] = []
        var states: [LeadState] = []
        var opportunities = AccountLedger()
        var touchTimes: [[Timestamp]] = []
        for id in members {
            guard let state = try lead(id) else { continue }
            let history = try self.history(of: id)
            // (Touchpoints as attribution counts them: touches, and a capture with a channel.)
            let touches = history.filter { row in
                (row.event.type.isTouch || (row.event.type == .leadCaptured && row.event.data["channel"] != nil)) && row.event.at <= asOf
            }.map(\.event.at)
            let lastTouch = touches.max()
            var score: Double?
            if let scorer, let rules {
                let matches = state.rulesVersion == rules.version
                    ? state.matches : scorer.matches(of: history.map { (position: $0.position, event: $0.event) })
                score = scorer.evaluate(profile: state.profile, matches: matches, at: .now).score
            }
            for row in history { opportunities.record(row.event) }
            leads.append(AccountLead(
                lead: id, stage: state.stage, score: score, lastTouchAt: lastTouch,
                engaged: lastTouch.map { $0 > since } ?? false, explicit: state.accountIsExplicit))
            states.append(state)
            touchTimes.append(touches)
        }
        guard !leads.isEmpty else { throw AccountError.unknown(account) }
        let firmographics = AccountScoring.firmographics(states.map(\.profile))
        var score: AccountScore?
        if let rules, let scorer {
            let (points, hits) = AccountScoring.rulePoints(rules.account, touchTimes: touchTimes, leadCount: leads.count, asOf: asOf)
            score = AccountScore(
                leadScores: leads.reduce(0) { $0 + ($1.score ?? 0) }, cap: rules.accountLeadScoreCap,
                fit: scorer.fitPoints(firmographics), rules: points, hits: hits)
        }
        return AccountSummary(
            account: account, leads: leads, mostAdvancedStage: AccountScoring.mostAdvanced(leads.map(\.stage)),
            engagedLeads: leads.filter(\.engaged).count, asOf: asOf, firmographics: firmographics, score: score,
            opportunities: opportunities.totals)
    }
}

/// An account's opportunities from its leads' events: each opportunity id once, open until a
/// `deal.closed` names it, won with the deal's amount (else the opening's).
struct AccountLedger {
    private var opened: [String: Double] = [:]
    private var closed: [String: (won: Bool, amount: Double?)] = [:]

    mutating func record(_ event: Envelope) {
        guard let id = event.data["opportunity"]?.stringValue else { return }
        let amount: Double? = if case .number(let value)? = event.data["amount"] { value } else { nil }
        switch event.type {
        case .opportunityOpened: opened[id] = amount ?? opened[id] ?? 0
        case .dealClosed: closed[id] = (event.data["outcome"] == .string("won"), amount)
        default: break
        }
    }

    var totals: AccountOpportunities {
        var totals = AccountOpportunities()
        for (id, amount) in opened where closed[id] == nil {
            totals.open += 1
            totals.openAmount += amount
        }
        for (id, deal) in closed where deal.won {
            totals.won += 1
            totals.wonAmount += deal.amount ?? opened[id] ?? 0
        }
        return totals
    }
}

extension LeadStore {
    /// `forEachJourney` with each lead's account (from its row in `leads`), for reports by
    /// account.
    public func forEachJourneyWithAccount(_ body: (String, Journey, String?) throws -> Void) throws {
        let journeys = try log.environment.table(projectionTables.journeys)
        let leads = self.leads
        var after: [UInt8]?
        while true {
            var batch: [(String, Journey, String?)] = []
            try log.environment.read { txn in
                try txn.withCursor(journeys) { cursor in
                    var entry = try after.map { key in try key.withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    if let current = entry, let after, current.key.elementsEqual(after) { entry = try cursor.next() }
                    while let current = entry, batch.count < 8_192 {
                        let lead = String(decoding: current.key, as: UTF8.self)
                        let account = try txn.get(leads, key: current.key).flatMap { try LeadStateCodec.decode($0, lead: lead, profile: false).account }
                        batch.append((lead, try JourneyCodec.decode(current.value), account))
                        entry = try cursor.next()
                    }
                }
            }
            log.environment.releaseMappedPages()
            guard let last = batch.last else { return }
            for (lead, journey, account) in batch { try body(lead, journey, account) }
            after = Array(last.0.utf8)
        }
    }

    /// Every account (in id order) with its leads' journeys, from the accounts index.
    public func forEachAccountJourneys(_ body: (String, [Journey]) throws -> Void) throws {
        let journeys = try log.environment.table(projectionTables.journeys)
        var accounts: [(String, [String])] = []
        try forEachAccount { accounts.append(($0, $1)) }
        for (account, leads) in accounts {
            let found = try log.environment.read { txn in
                try leads.compactMap { lead in
                    try lead.withUTF8Bytes { key in try txn.get(journeys, key: key).map { try JourneyCodec.decode($0) } }
                }
            }
            try body(account, found)
        }
    }
}
