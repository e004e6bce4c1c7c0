import ArgumentParser
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import LedgerSystem
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Closed-loop reports: attribution, funnel, lead quality, SLA, monthly, plan, paths, account funnel.",
        subcommands: [
            AttributionReportCommand.self, FunnelReport.self, QualityReport.self, SLAReport.self, MonthlyReport.self, PlanReport.self, PathsReport.self,
            AccountFunnelReport.self,
        ])
}

/// `--format` (table, csv, json, html) and `--out` for reports.
struct ReportOutput: ParsableArguments {
    @Option(help: "Output format: table, csv, json or html (a self-contained page with charts).")
    var format: OutputFormat = .table

    @Option(help: ArgumentHelp(
        "Write to this file instead of stdout (html on a terminal goes to ./leadledger-<report>.html; redirected, to stdout).",
        valueName: "FILE"))
    var out: String?

    /// Writes `report`; an HTML page also shows `alsoOnPage` after it.
    func emit(_ report: Report, alsoOnPage: [Report] = []) throws {
        let text: String
        switch format {
        case .table: text = ReportRenderer.table(report)
        case .csv: text = ReportRenderer.csv(report)
        case .json: text = JSONWriter.render(ReportRenderer.json(report))
        case .html: text = HTMLRenderer.page([report] + alsoOnPage, title: report.title, subtitle: "LeadLedger report")
        }
        // A page printed on a terminal is of no use, so there it goes to a file; redirected
        // (`> page.html`, a pipe) it goes where the user sent it.
        let onTerminal = System.isTerminal(System.standardOutput)
        let target = out ?? (format == .html && onTerminal ? "./leadledger-\(report.name).html" : nil)
        // (The same bytes either way: one line end after the text.)
        let ended = text.hasSuffix("\n") ? text : text + "\n"
        guard let target else {
            print(ended, terminator: "")
            return
        }
        do {
            try ended.write(toFile: target, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(target): \((error as NSError).localizedDescription)")
        }
        printToStderr("wrote \(target)")
    }
}

/// `--from` / `--to`.
struct RangeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("From this time on (RFC 3339 or a date).", valueName: "TIME")) var from: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Before this time (RFC 3339 or a date).", valueName: "TIME")) var to: String?

    func range() throws -> TimeRange {
        let range = TimeRange(from: try from.map { try parseTime($0, option: "--from") }, to: try to.map { try parseTime($0, option: "--to") })
        try checkOrder(range.from, "--from", range.to, "--to")
        return range
    }
}

extension AttributionModel: ExpressibleByArgument {}
extension TouchField: ExpressibleByArgument {}
extension LeadGrouping: ExpressibleByArgument {}
extension AttributionGrouping: ExpressibleByArgument {}

/// `AccountReports`' walk over the store's journeys with their leads' accounts.
func journeysWithAccounts(_ store: LeadStore) -> AccountReports.Walk {
    { body in try store.forEachJourneyWithAccount { _, journey, account in try body(journey, account) } }
}

/// Walks every journey once with the store's dimension names.
func eachJourney(_ store: LeadStore, _ body: (Journey, (UInt32) -> String) throws -> Void) throws {
    let names = try store.dimensionNames()
    let name: (UInt32) -> String = { names[$0] ?? "#\($0)" }
    try store.forEachJourney { _, journey in try body(journey, name) }
}

struct AttributionReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribution",
        abstract: "Which channels, campaigns, sources or contents produced won revenue, under a model.",
        discussion: """
            Models: \(AttributionModel.allCases.map(\.rawValue).joined(separator: ", ")). Conversions are won deals \
            closed in [--from, --to); revenue is the deal amount; each conversion's credit sums to 1 over its touches.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The attribution model.") var model: AttributionModel
    @Option(help: "Group by channel, campaign, source, content or account (the lead's).") var by: AttributionGrouping = .channel
    @OptionGroup var range: RangeOptions
    @Option(name: .customLong("half-life"), parsing: .unconditional, help: "time-decay: days for a touch's weight to halve (at most 36,500).") var halfLife: Double = 7
    @Option(parsing: .unconditional, help: "Only touches within this many days before the conversion (at most 36,500).") var lookback: Double?
    @Option(parsing: .unconditional, help: "markov: the chain's order (1 to 4).") var order: Int = 1
    @OptionGroup var output: ReportOutput

    func validate() throws {
        try OptionCheck.positive(halfLife, "--half-life", atMost: OptionCheck.maximumDays, unit: "days")
        try OptionCheck.whole(order, "--order", in: 1...4)
        if let lookback { try OptionCheck.positive(lookback, "--lookback", atMost: OptionCheck.maximumDays, unit: "days") }
    }

    func run() throws {
        let window = try range.range()
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let settings = AttributionSettings(
            model: model, by: by.touchField ?? .channel, from: window.from, to: window.to, halfLifeDays: halfLife, lookbackDays: lookback, order: order)
        var accumulator = AttributionAccumulator(settings: settings)
        // The page also puts every model side by side, with the same settings.
        var comparison = output.format == .html ? AttributionComparison(settings: settings) : nil
        let names = try store.dimensionNames()
        if by == .account {
            let report = try AccountReports.attribution(settings, walk: journeysWithAccounts(store)) { names[$0] ?? "#\($0)" }
            return try output.emit(report)
        }
        try store.forEachJourney { _, journey in
            accumulator.add(journey)
            comparison?.add(journey)
        }
        let name: (UInt32) -> String = { names[$0] ?? "#\($0)" }
        try output.emit(accumulator.report(name: name), alsoOnPage: comparison.map { [$0.report(name: name)] } ?? [])
    }
}

struct FunnelReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "funnel", abstract: "Counts per stage, stage-to-stage conversion and median days between stages.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Group by source, campaign, channel, cohort (capture month) or account.") var by: LeadGrouping = .source
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func run() throws {
        var funnel = FunnelAccumulator(grouping: by, range: try range.range())
        let store = try storeOptions.openForReading()
        defer { store.close() }
        if by == .account { return try output.emit(AccountReports.funnel(range: try range.range(), walk: journeysWithAccounts(store))) }
        try eachJourney(store) { funnel.add($0, name: $1) }
        try output.emit(funnel.report())
    }
}

struct QualityReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quality", abstract: "Sales rejections by reason, and accept rate, per source.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Group by source, campaign, channel, cohort or account.") var by: LeadGrouping = .source
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func run() throws {
        var quality = QualityAccumulator(grouping: by, range: try range.range())
        let store = try storeOptions.openForReading()
        defer { store.close() }
        if by == .account { return try output.emit(AccountReports.quality(range: try range.range(), walk: journeysWithAccounts(store))) }
        try eachJourney(store) { quality.add($0, name: $1) }
        try output.emit(quality.report())
    }
}

struct SLAReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sla", abstract: "Time from handoff to sales' first response, and breaches per owner.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(parsing: .unconditional, help: "The SLA in hours (at most 876,000).") var within: Double = 24
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func validate() throws {
        try OptionCheck.positive(within, "--within", atMost: OptionCheck.maximumHours, unit: "hours")
    }

    func run() throws {
        var sla = SLAAccumulator(withinHours: within, range: try range.range(), now: .now)
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let names = try store.dimensionNames()
        try store.forEachJourney { _, journey in sla.add(journey) }
        try output.emit(sla.report { names[$0] ?? "#\($0)" })
    }
}

struct MonthlyReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monthly", abstract: "Leads, MQLs, SQLs, won deals and bookings per month.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func run() throws {
        var monthly = MonthlyAccumulator(range: try range.range())
        let store = try storeOptions.openForReading()
        defer { store.close() }
        try store.forEachJourney { _, journey in monthly.add(journey) }
        try output.emit(monthly.report())
    }
}

struct PlanReport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Reverse funnel: the leads and MQLs a revenue goal needs at the measured rates.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(parsing: .unconditional, help: "The revenue goal (at most 10^15).") var revenue: Double
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func validate() throws {
        try OptionCheck.positive(revenue, "--revenue", atMost: OptionCheck.maximumRevenue)
    }

    func run() throws {
        let window = try range.range()
        var funnel = FunnelAccumulator(grouping: .source, range: window)
        var won = 0
        var wonRevenue = 0.0
        let store = try storeOptions.openForReading()
        defer { store.close() }
        try eachJourney(store) { journey, name in
            funnel.add(journey, name: name)
            if window.contains(journey.capturedAt), journey.wonAt != nil {
                won += 1
                wonRevenue += journey.revenue
            }
        }
        try output.emit(ReverseFunnel.plan(revenue: revenue, counts: funnel.counts, rates: funnel.rates, wonRevenue: wonRevenue, won: won))
    }
}

struct PathsReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths",
        abstract: "Export the store's channel paths in the ChannelAttribution CSV format.",
        discussion: "path;total_conversions;total_conversion_value;total_null — one line per distinct path, to compare with that package or feed `leadledger attribution --paths`.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Path elements: channel, campaign, source or content.") var by: TouchField = .channel
    @OptionGroup var range: RangeOptions
    @Option(help: ArgumentHelp("Write to this file instead of stdout.", valueName: "FILE")) var out: String?

    func run() throws {
        var paths = PathsAccumulator(by: by, range: try range.range())
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let names = try store.dimensionNames()
        try store.forEachJourney { _, journey in paths.add(journey) }
        let csv = paths.paths { names[$0] ?? "#\($0)" }.csv()
        if let out {
            do {
                try csv.write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("cannot write \(out): \((error as NSError).localizedDescription)")
            }
            printToStderr("wrote \(out)")
        } else {
            print(csv, terminator: "")
        }
    }
}
