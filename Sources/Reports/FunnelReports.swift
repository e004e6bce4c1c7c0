import LeadDomain
import LedgerJSON

/// How the funnel and quality reports group leads.
public enum LeadGrouping: String, Sendable, CaseIterable {
    case source, campaign, channel, cohort
    /// The lead's account: journeys relabeled by `AccountLabels` (their channel is the
    /// account's id), `(none)` for a lead without one.
    case account

    func key(_ journey: Journey, name: (UInt32) -> String) -> String {
        switch self {
        case .account: return name(journey.channel)
        case .source: return journey.source == 0 ? "(none)" : name(journey.source)
        case .campaign: return journey.campaign == 0 ? "(none)" : name(journey.campaign)
        case .channel: return journey.channel == 0 ? "(none)" : name(journey.channel)
        case .cohort: return journey.capturedAt.yearMonth
        }
    }
}

/// A time range [from, to) on some time of a journey.
public struct TimeRange: Sendable {
    public var from: Timestamp?
    public var to: Timestamp?

    public init(from: Timestamp? = nil, to: Timestamp? = nil) {
        self.from = from
        self.to = to
    }

    public func contains(_ time: Timestamp) -> Bool {
        (from.map { time >= $0 } ?? true) && (to.map { time < $0 } ?? true)
    }

    var json: JSONObject { ["from": .nullable(from?.rfc3339), "to": .nullable(to?.rfc3339)] }
}

func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func ratio(_ part: Int, _ whole: Int) -> JSONValue {
    whole > 0 ? .number(Double(part) / Double(whole)) : .null
}

/// Funnel: per group, how many leads reached each stage (or a later one), stage-to-stage
/// conversion, and median days between consecutive stages (for leads with both times).
/// Leads are those captured in the range.
public struct FunnelAccumulator: Sendable {
    public let grouping: LeadGrouping
    public let range: TimeRange
    struct Group {
        var reached = Array(repeating: 0, count: Journey.funnel.count)
        var days: [[Double]] = Array(repeating: [], count: Journey.funnel.count - 1)
    }
    private var groups: [String: Group] = [:]
    private var total = Group()

    static let stageNames = ["leads", "mqls", "sals", "sqls", "opportunities", "customers"]
    static let stepNames = ["leadToMql", "mqlToSal", "salToSql", "sqlToOpportunity", "opportunityToCustomer"]
    static let dayNames = ["daysLeadToMql", "daysMqlToSal", "daysSalToSql", "daysSqlToOpportunity", "daysOpportunityToCustomer"]

    public init(grouping: LeadGrouping, range: TimeRange = TimeRange()) {
        self.grouping = grouping
        self.range = range
    }

    public mutating func add(_ journey: Journey, name: (UInt32) -> String) {
        guard range.contains(journey.capturedAt) else { return }
        let key = grouping.key(journey, name: name)
        var group = groups[key] ?? Group()
        for stage in Journey.funnel.indices where journey.hasReached(stage) {
            group.reached[stage] += 1
            total.reached[stage] += 1
        }
        for step in 0..<Journey.funnel.count - 1 {
            if let start = journey.reached[step], let end = journey.reached[step + 1], end >= start {
                group.days[step].append(start.days(until: end))
                total.days[step].append(start.days(until: end))
            }
        }
        groups[key] = group
    }

    /// Measured stage-to-stage rates over all leads (for `plan`).
    public var rates: [Double?] {
        (0..<Journey.funnel.count - 1).map { total.reached[$0] > 0 ? Double(total.reached[$0 + 1]) / Double(total.reached[$0]) : nil }
    }

    public var counts: [Int] { total.reached }

    public func report() -> Report {
        let short = ["lead", "MQL", "SAL", "SQL", "opp", "won"]
        let columns = Self.stageNames.map { Report.Column($0, $0, .count) }
            + Self.stepNames.indices.map { Report.Column(Self.stepNames[$0], "\(short[$0])→\(short[$0 + 1])", .ratio) }
            + Self.dayNames.indices.map { Report.Column(Self.dayNames[$0], "days \(short[$0])→\(short[$0 + 1])", .days) }
        func values(_ group: Group) -> [JSONValue] {
            group.reached.map { .integer($0) }
                + (0..<Self.stepNames.count).map { ratio(group.reached[$0 + 1], group.reached[$0]) }
                + group.days.map { median($0).map(JSONValue.number) ?? .null }
        }
        let order: [String] = grouping == .cohort
            ? groups.keys.sorted()
            : groups.keys.sorted { (groups[$0]!.reached[0], $1) > (groups[$1]!.reached[0], $0) }
        var totals = JSONObject()
        for (column, value) in zip(columns, values(total)) { totals[column.name] = value }
        return Report(
            name: "funnel", title: "Funnel by \(grouping.rawValue)", by: grouping.rawValue, keyTitle: grouping.rawValue,
            columns: columns, rows: order.map { Report.Row(key: $0, values: values(groups[$0]!)) }, totals: totals,
            extra: range.json, chart: .funnel(Self.stageNames),
            notes: ["A lead counts for a stage when it reached that stage or a later one; leads captured in the range."])
    }
}

/// Lead quality: per source, leads handed off, sales accepts and rejections by reason, and
/// the accept rate (accepts / (accepts + rejections)). Leads captured in the range.
public struct QualityAccumulator: Sendable {
    public let grouping: LeadGrouping
    public let range: TimeRange
    struct Group {
        var leads = 0
        var handedOff = 0
        var accepted = 0
        var rejected = Array(repeating: 0, count: Vocabulary.rejectionReasons.count)
    }
    private var groups: [String: Group] = [:]
    private var total = Group()

    public init(grouping: LeadGrouping = .source, range: TimeRange = TimeRange()) {
        self.grouping = grouping
        self.range = range
    }

    public mutating func add(_ journey: Journey, name: (UInt32) -> String) {
        guard range.contains(journey.capturedAt) else { return }
        let key = grouping.key(journey, name: name)
        var group = groups[key] ?? Group()
        func count(_ update: (inout Group) -> Void) {
            update(&group)
            update(&total)
        }
        count { $0.leads += 1 }
        if !journey.handoffs.isEmpty { count { $0.handedOff += 1 } }
        count { $0.accepted += journey.accepts }
        for rejection in journey.rejections {
            // (A reason code past the list, which no engine writes, counts as "other".)
            let reason = min(Int(rejection.reason), Vocabulary.rejectionReasons.count - 1)
            count { $0.rejected[reason] += 1 }
        }
        groups[key] = group
    }

    public func report() -> Report {
        let reasons = Vocabulary.rejectionReasons
        let columns = [Report.Column("leads", "leads", .count), Report.Column("handedOff", "handed off", .count),
                       Report.Column("accepted", "accepted", .count), Report.Column("rejected", "rejected", .count),
                       Report.Column("acceptRate", "accept rate", .ratio)]
            + reasons.map { Report.Column($0, $0, .count) }
        func values(_ g: Group) -> [JSONValue] {
            let rejected = g.rejected.reduce(0, +)
            return [.integer(g.leads), .integer(g.handedOff), .integer(g.accepted), .integer(rejected), ratio(g.accepted, g.accepted + rejected)]
                + g.rejected.map { .integer($0) }
        }
        var totals = JSONObject()
        for (column, value) in zip(columns, values(total)) { totals[column.name] = value }
        let order = groups.keys.sorted { (groups[$0]!.rejected.reduce(0, +), $1) > (groups[$1]!.rejected.reduce(0, +), $0) }
        return Report(
            name: "quality", title: "Lead quality by \(grouping.rawValue): sales accepts and rejections", by: grouping.rawValue, keyTitle: grouping.rawValue,
            columns: columns, rows: order.map { Report.Row(key: $0, values: values(groups[$0]!)) }, totals: totals,
            extra: range.json, chart: .bars(["rejected", "accepted"]),
            notes: ["accept rate = accepts / (accepts + rejections); leads captured in the range."])
    }
}

/// Sales SLA: per owner, handoffs (in the range), how many got a response (first
/// `sales.contacted`, `sales.accepted` or `sales.rejected` after the handoff), median hours to
/// respond, and breaches: a response later than `withinHours`, or none and the handoff older
/// than that at `now`.
public struct SLAAccumulator: Sendable {
    public let withinHours: Double
    public let range: TimeRange
    public let now: Timestamp
    struct Group {
        var handoffs = 0
        var responded = 0
        var breaches = 0
        var hours: [Double] = []
    }
    private var groups: [UInt32: Group] = [:]
    private var total = Group()

    public init(withinHours: Double, range: TimeRange = TimeRange(), now: Timestamp) {
        self.withinHours = withinHours
        self.range = range
        self.now = now
    }

    public mutating func add(_ journey: Journey) {
        for handoff in journey.handoffs where range.contains(handoff.at) {
            var group = groups[handoff.owner] ?? Group()
            func count(_ update: (inout Group) -> Void) {
                update(&group)
                update(&total)
            }
            count { $0.handoffs += 1 }
            if let responded = handoff.respondedAt {
                let hours = handoff.at.days(until: responded) * 24
                count {
                    $0.responded += 1
                    $0.hours.append(hours)
                    if hours > withinHours { $0.breaches += 1 }
                }
            } else if handoff.at.days(until: now) * 24 > withinHours {
                count { $0.breaches += 1 }
            }
            groups[handoff.owner] = group
        }
    }

    public func report(name: (UInt32) -> String) -> Report {
        let columns = [Report.Column("handoffs", "handoffs", .count), Report.Column("responded", "responded", .count),
                       Report.Column("medianHours", "median hours", .hours), Report.Column("breaches", "breaches", .count),
                       Report.Column("breachRate", "breach rate", .ratio)]
        func values(_ g: Group) -> [JSONValue] {
            [.integer(g.handoffs), .integer(g.responded), median(g.hours).map(JSONValue.number) ?? .null, .integer(g.breaches), ratio(g.breaches, g.handoffs)]
        }
        var totals = JSONObject()
        for (column, value) in zip(columns, values(total)) { totals[column.name] = value }
        let named = groups.map { (name: $0.key == 0 ? "(none)" : name($0.key), group: $0.value) }
            .sorted { ($0.group.breaches, $1.name) > ($1.group.breaches, $0.name) }
        var extra = range.json
        extra["withinHours"] = .number(withinHours)
        return Report(
            name: "sla", title: "Sales follow-up SLA (respond within \(JSONWriter.render(.number(withinHours))) hours) by owner", by: "owner", keyTitle: "owner",
            columns: columns, rows: named.map { Report.Row(key: $0.name, values: values($0.group)) }, totals: totals,
            extra: extra, chart: .bars(["breaches", "handoffs"]),
            notes: ["response: the first sales.contacted, sales.accepted or sales.rejected after the handoff."])
    }
}

/// Monthly: leads captured, first MQLs, first SQLs, won deals and bookings, per month.
public struct MonthlyAccumulator: Sendable {
    public let range: TimeRange
    struct Month {
        var leads = 0, mqls = 0, sqls = 0, won = 0
        var bookings = 0.0
    }
    private var months: [String: Month] = [:]

    public init(range: TimeRange = TimeRange()) {
        self.range = range
    }

    public mutating func add(_ journey: Journey) {
        func count(_ time: Timestamp?, _ update: (inout Month) -> Void) {
            guard let time, range.contains(time) else { return }
            update(&months[time.yearMonth, default: Month()])
        }
        count(journey.capturedAt) { $0.leads += 1 }
        count(journey.reached[1] ?? (journey.hasReached(1) ? journey.reached[1...].compactMap { $0 }.first : nil)) { $0.mqls += 1 }
        count(journey.reached[3] ?? (journey.hasReached(3) ? journey.reached[3...].compactMap { $0 }.first : nil)) { $0.sqls += 1 }
        count(journey.wonAt) {
            $0.won += 1
            $0.bookings += journey.revenue
        }
    }

    public func report() -> Report {
        let columns = [Report.Column("leads", "leads", .count), Report.Column("mqls", "MQLs", .count), Report.Column("sqls", "SQLs", .count),
                       Report.Column("won", "won deals", .count), Report.Column("bookings", "bookings", .money)]
        let keys = months.keys.sorted()
        var total = Month()
        for month in keys.map({ months[$0]! }) {
            total.leads += month.leads
            total.mqls += month.mqls
            total.sqls += month.sqls
            total.won += month.won
            total.bookings += month.bookings
        }
        func values(_ m: Month) -> [JSONValue] { [.integer(m.leads), .integer(m.mqls), .integer(m.sqls), .integer(m.won), .number(m.bookings)] }
        var totals = JSONObject()
        for (column, value) in zip(columns, values(total)) { totals[column.name] = value }
        return Report(
            name: "monthly", title: "Monthly leads vs bookings", by: "month", keyTitle: "month",
            columns: columns, rows: keys.map { Report.Row(key: $0, values: values(months[$0]!)) }, totals: totals,
            extra: range.json, chart: .lines(["leads", "mqls", "sqls", "won"], barColumn: "bookings"),
            notes: ["MQLs and SQLs count in the month a lead first reached the stage (or a later one); bookings are won amounts."])
    }
}

/// The reverse funnel: how many leads, MQLs, SALs, SQLs, opportunities and won deals a revenue
/// goal needs at the measured conversion rates and average deal size.
public enum ReverseFunnel {
    public static func plan(revenue goal: Double, counts: [Int], rates: [Double?], wonRevenue: Double, won: Int) -> Report {
        // An average deal of nothing (or one no double can hold) gives no plan: the goal would
        // need infinitely many deals.
        var averageDeal = won > 0 ? wonRevenue / Double(won) : nil
        if let average = averageDeal, !(average > 0 && average.isFinite) { averageDeal = nil }
        var needed = Array(repeating: JSONValue.null, count: Journey.funnel.count)
        var usable = averageDeal != nil
        if let averageDeal {
            var count = (goal / averageDeal).rounded(.up)
            needed[Journey.funnel.count - 1] = .number(count)
            for step in stride(from: Journey.funnel.count - 2, through: 0, by: -1) {
                guard let rate = rates[step], rate > 0 else {
                    usable = false
                    break
                }
                count = (count / rate).rounded(.up)
                needed[step] = .number(count)
            }
        }
        let names = ["leads", "MQLs", "SALs", "SQLs", "opportunities", "won deals"]
        let rows = names.indices.map { index in
            Report.Row(key: names[index], values: [
                needed[index], .integer(counts[index]),
                index < rates.count ? rates[index].map(JSONValue.number) ?? .null : .null,
            ])
        }
        return Report(
            name: "plan", title: "Reverse funnel for \(ReportRenderer.format(.number(goal), .money)) of revenue", by: "stage", keyTitle: "stage",
            columns: [Report.Column("needed", "needed", .count), Report.Column("measured", "measured so far", .count), Report.Column("rateToNext", "rate to next", .ratio)],
            rows: rows,
            extra: ["revenueGoal": .number(goal), "averageDeal": averageDeal.map(JSONValue.number) ?? .null],
            chart: .funnel(["needed"]),
            notes: usable
                ? ["needed = the stage below divided by the measured rate to it, rounded up; won deals = goal / average deal (\(ReportRenderer.format(.number(averageDeal ?? 0), .money)))."]
                : ["not enough history: the plan needs won deals with revenue and a measured rate for every stage."])
    }
}
