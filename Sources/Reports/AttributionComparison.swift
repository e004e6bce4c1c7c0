import LeadDomain
import LedgerJSON

/// Every attribution model side by side — the view attribution tools lead with: the share of
/// the won deals each model credits to each channel (or campaign, source, content) — the
/// `share` column of each model's own report — one row per key and one column per model, and
/// how far the models disagree about it (the spread). The journeys are walked once; each
/// model sees them with the same settings (range, lookback, half-life, Markov order).
public struct AttributionComparison: Sendable {
    /// The models in the order of the columns: by position, by milestone, by time, by data.
    public static let models: [AttributionModel] = [
        .firstTouch, .leadCreation, .uShaped, .wShaped, .fullPath, .positionBased, .lastTouch, .linear, .timeDecay, .markov,
    ]
    /// Short column headings (tables and the chart's legend).
    static let headings: [AttributionModel: String] = [
        .firstTouch: "first touch", .lastTouch: "last touch", .leadCreation: "lead creation", .linear: "linear",
        .uShaped: "U-shaped", .wShaped: "W-shaped", .fullPath: "full path", .positionBased: "position",
        .timeDecay: "time decay", .markov: "Markov",
    ]
    /// How many keys the chart shows (the table has them all).
    public static let chartedKeys = 10

    public let by: TouchField
    private var accumulators: [AttributionAccumulator]

    /// `settings.model` is ignored: every model gets the other settings.
    public init(settings: AttributionSettings) {
        by = settings.by
        accumulators = Self.models.map { model in
            var each = settings
            each.model = model
            return AttributionAccumulator(settings: each)
        }
    }

    public mutating func add(_ journey: Journey) {
        for index in accumulators.indices { accumulators[index].add(journey) }
    }

    private func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value, number.isFinite { return number }
        return nil
    }

    /// The report: per key, each model's share of the won deals' credit, and the spread (the
    /// largest share less the smallest). Keys in order of their mean share, then by name.
    public func report(name: (UInt32) -> String) -> Report {
        let reports = accumulators.map { $0.report(name: name) }
        let totalRevenue = reports.first.flatMap { number($0.totals["revenue"]) } ?? 0
        let totalConversions = reports.first.flatMap { number($0.totals["conversions"]) } ?? 0
        var shares: [String: [Double]] = [:]
        for (index, report) in reports.enumerated() {
            for row in report.rows {
                let credit = number(report.value(row, "conversions")) ?? 0
                shares[row.key, default: Array(repeating: 0, count: reports.count)][index] = totalConversions > 0 ? credit / totalConversions : 0
            }
        }
        let mean = shares.mapValues { $0.reduce(0, +) / Double(max($0.count, 1)) }
        let keys = shares.keys.sorted { (mean[$0]!, $1) > (mean[$1]!, $0) }
        let columns = Self.models.map { Report.Column($0.rawValue, Self.headings[$0], .ratio) }
            + [Report.Column("spread", "spread", .ratio)]
        let rows = keys.map { key -> Report.Row in
            let values = shares[key]!
            return Report.Row(key: key, values: values.map(JSONValue.number) + [.number((values.max() ?? 0) - (values.min() ?? 0))])
        }
        var totals = JSONObject()
        for model in Self.models { totals[model.rawValue] = .number(totalConversions > 0 ? 1 : 0) }
        let settings = accumulators[0].settings
        return Report(
            name: "attribution-models",
            title: "Won deals by \(by.rawValue), every model side by side",
            by: by.rawValue, keyTitle: by.rawValue,
            columns: columns, rows: rows, totals: totals,
            extra: [
                "from": .nullable(settings.from?.rfc3339), "to": .nullable(settings.to?.rfc3339),
                "conversions": .number(totalConversions), "revenue": .number(totalRevenue),
                "halfLifeDays": .number(settings.halfLifeDays), "lookbackDays": settings.lookbackDays.map(JSONValue.number) ?? .null,
                "order": .integer(settings.order),
            ],
            chart: .compare(Self.models.map(\.rawValue), limit: Self.chartedKeys),
            notes: [
                totalConversions > 0
                    ? "The share of the won deals (\(ReportRenderer.format(.number(totalConversions), .count)) deals, \(ReportRenderer.format(.number(totalRevenue), .money)) of revenue) each model credits to each \(by.rawValue) — the share column of each model's report; spread: the largest share less the smallest."
                    : "No won deals in range: no model has anything to credit.",
                "Time decay: half-life \(ReportRenderer.format(.number(settings.halfLifeDays), .days)) days; Markov: order \(settings.order), removal effects.",
            ])
    }
}
