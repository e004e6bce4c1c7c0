import LeadDomain
import LedgerJSON

/// A report over leads grouped by a `LeadGrouping` (funnel, quality).
public protocol LeadGroupedReport {
    init(grouping: LeadGrouping, range: TimeRange)
    mutating func add(_ journey: Journey, name: (UInt32) -> String)
    func report() -> Report
}

extension FunnelAccumulator: LeadGroupedReport {}
extension QualityAccumulator: LeadGroupedReport {}

/// What attribution reports group by: a touch field, or the lead's account.
public enum AttributionGrouping: String, Sendable, CaseIterable {
    case channel, campaign, source, content, account

    public var touchField: TouchField? { TouchField(rawValue: rawValue) }
}

/// Reports by account reuse the reports by channel: each journey is relabeled so that its
/// capture channel and every touch's channel are its account (an id past the store's
/// dimension ids), so every model, range and lookback applies unchanged, and a conversion's
/// whole credit goes to its lead's account.
public struct AccountLabels: Sendable {
    /// The key of leads without an account.
    public static let none = "(none)"
    /// Account ids start here, above any dimension id the store hands out.
    static let base: UInt32 = 0x8000_0000

    private var ids: [String: UInt32] = [:]
    private var names: [String] = []

    public init() {}

    public mutating func id(_ account: String?) -> UInt32 {
        let key = account ?? Self.none
        if let id = ids[key] { return id }
        let id = Self.base + UInt32(names.count)
        ids[key] = id
        names.append(key)
        return id
    }

    /// The journey with its channels replaced by the account's id.
    public mutating func relabel(_ journey: Journey, account: String?) -> Journey {
        let id = self.id(account)
        var relabeled = journey
        relabeled.channel = id
        for index in relabeled.touches.indices { relabeled.touches[index].channel = id }
        return relabeled
    }

    /// The account an id stands for, else `fallback`'s name.
    public func name(_ id: UInt32, fallback: (UInt32) -> String) -> String {
        id >= Self.base && Int(id - Self.base) < names.count ? names[Int(id - Self.base)] : fallback(id)
    }
}

/// `--by account` for attribution, funnel and quality, and the account funnel. `walk` calls
/// its argument with every lead's journey and account (`LeadStore.forEachJourneyWithAccount`).
public enum AccountReports {
    public typealias Walk = ((Journey, String?) throws -> Void) throws -> Void

    public static func attribution(_ settings: AttributionSettings, walk: Walk, name: (UInt32) -> String) throws -> Report {
        var byChannel = settings
        byChannel.by = .channel
        var accumulator = AttributionAccumulator(settings: byChannel)
        var labels = AccountLabels()
        try walk { journey, account in accumulator.add(labels.relabel(journey, account: account)) }
        var report = accumulator.report { labels.name($0, fallback: name) }
        report.by = "account"
        report.keyTitle = "account"
        report.title = "Attribution of won revenue by account, \(settings.model.rawValue) model"
        report.notes.append("A conversion's whole credit goes to its lead's account; leads without an account are \(AccountLabels.none).")
        return report
    }

    public static func funnel(range: TimeRange, walk: Walk) throws -> Report {
        try grouped(FunnelAccumulator.self, range: range, walk: walk)
    }

    public static func quality(range: TimeRange, walk: Walk) throws -> Report {
        try grouped(QualityAccumulator.self, range: range, walk: walk)
    }

    /// A funnel or quality report by account.
    public static func grouped<Accumulator: LeadGroupedReport>(_: Accumulator.Type, range: TimeRange, walk: Walk) throws -> Report {
        var accumulator = Accumulator(grouping: .account, range: range)
        var labels = AccountLabels()
        try walk { journey, account in
            let relabeled = labels.relabel(journey, account: account)
            accumulator.add(relabeled) { labels.name($0) { _ in AccountLabels.none } }
        }
        return accumulator.report()
    }

    /// The account funnel: how many accounts reached each stage (an account reaches a stage
    /// when one of its leads does, at the earliest of its leads' times), grouped by cohort
    /// (the month its first lead was captured; `range` filters on that time). `accounts`
    /// calls its argument with each account's leads' journeys. Leads without an account are
    /// not in it.
    public static func accountFunnel(range: TimeRange, accounts: (([Journey]) throws -> Void) throws -> Void) throws -> Report {
        var funnel = FunnelAccumulator(grouping: .cohort, range: range)
        try accounts { journeys in
            guard let first = journeys.min(by: { $0.capturedAt < $1.capturedAt }) else { return }
            var combined = Journey(capturedAt: first.capturedAt)
            for journey in journeys {
                for (index, reached) in journey.reached.enumerated() {
                    guard let reached else { continue }
                    combined.reached[index] = combined.reached[index].map { min($0, reached) } ?? reached
                }
            }
            funnel.add(combined) { _ in AccountLabels.none }
        }
        var report = funnel.report()
        report.name = "account-funnel"
        report.title = "Account funnel by cohort (the month of its first lead's capture)"
        report.notes = [
            "An account counts for a stage when one of its leads reached that stage or a later one (at its leads' earliest time); "
                + "accounts whose first lead was captured in the range; leads without an account are left out.",
        ]
        return report
    }
}
