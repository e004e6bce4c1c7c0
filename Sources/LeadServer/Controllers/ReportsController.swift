import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports

/// `GET /v1/reports/{attribution|funnel|quality|sla|monthly|plan|paths|account-funnel}` with the CLI's
/// options as query parameters (`model`, `by`, `from`, `to`, `halfLife`, `lookback`, `order`,
/// `within`, `revenue`): JSON by default, CSV with `Accept: text/csv`, the self-contained
/// page with `Accept: text/html`. `paths` is always the ChannelAttribution CSV.
struct ReportsController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("reports/{name}", use: report)
    }

    /// `AccountReports`' walk over the store's journeys with their leads' accounts.
    private var journeysWithAccounts: AccountReports.Walk {
        { [store] body in try store.forEachJourneyWithAccount { _, journey, account in try body(journey, account) } }
    }

    /// A funnel or quality report `by` a grouping (by source when not given).
    private func grouped<Accumulator: LeadGroupedReport>(
        _ type: Accumulator.Type, by: LeadGrouping?, range: TimeRange, name: (UInt32) -> String
    ) throws -> Report {
        let grouping = by ?? .source
        if grouping == .account { return try AccountReports.grouped(type, range: range, walk: journeysWithAccounts) }
        var accumulator = Accumulator(grouping: grouping, range: range)
        try store.forEachJourney { _, journey in accumulator.add(journey, name: name) }
        return accumulator.report()
    }

    @Sendable func report(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        let range = TimeRange(from: try Query.time(request, "from"), to: try Query.time(request, "to"))
        if let from = range.from, let to = range.to, from >= to {
            throw Problem(.badRequest, "from \(from.rfc3339) is not before to \(to.rfc3339): the range would hold nothing")
        }
        let names = try store.dimensionNames()
        let name_: (UInt32) -> String = { names[$0] ?? "#\($0)" }
        let report: Report
        switch name {
        case "attribution":
            guard let text = Query.text(request, "model") else {
                throw Problem(.badRequest, "model is required: one of \(AttributionModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let model = AttributionModel(rawValue: text) else {
                throw Problem(.badRequest, "model=\(text) is not one of \(AttributionModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let halfLife = try Query.number(request, "halfLife", in: 0.001...36_500) ?? 7
            let lookback = try Query.number(request, "lookback", in: 0.001...36_500)
            let order = Int(try Query.integer(request, "order", in: 1...4) ?? 1)
            let by = try Query.choice(request, "by", AttributionGrouping.self) ?? .channel
            let settings = AttributionSettings(
                model: model, by: by.touchField ?? .channel, from: range.from, to: range.to,
                halfLifeDays: halfLife, lookbackDays: lookback, order: order)
            if by == .account {
                report = try AccountReports.attribution(settings, walk: journeysWithAccounts, name: name_)
            } else {
                var accumulator = AttributionAccumulator(settings: settings)
                try store.forEachJourney { _, journey in accumulator.add(journey) }
                report = accumulator.report(name: name_)
            }
        case "funnel":
            report = try grouped(FunnelAccumulator.self, by: Query.choice(request, "by", LeadGrouping.self), range: range, name: name_)
        case "quality":
            report = try grouped(QualityAccumulator.self, by: Query.choice(request, "by", LeadGrouping.self), range: range, name: name_)
        case "account-funnel":
            report = try AccountReports.accountFunnel(range: range) { body in
                try store.forEachAccountJourneys { _, journeys in try body(journeys) }
            }
        case "sla":
            var sla = SLAAccumulator(withinHours: try Query.number(request, "within", in: 0.001...876_000) ?? 24, range: range, now: .now)
            try store.forEachJourney { _, journey in sla.add(journey) }
            report = sla.report(name: name_)
        case "monthly":
            var monthly = MonthlyAccumulator(range: range)
            try store.forEachJourney { _, journey in monthly.add(journey) }
            report = monthly.report()
        case "plan":
            guard let revenue = try Query.number(request, "revenue", in: 0.01...1e15) else {
                throw Problem(.badRequest, "revenue is required: the revenue goal, more than 0 and at most 10^15")
            }
            var funnel = FunnelAccumulator(grouping: .source, range: range)
            var won = 0
            var wonRevenue = 0.0
            try store.forEachJourney { _, journey in
                funnel.add(journey, name: name_)
                if range.contains(journey.capturedAt), journey.wonAt != nil {
                    won += 1
                    wonRevenue += journey.revenue
                }
            }
            report = ReverseFunnel.plan(revenue: revenue, counts: funnel.counts, rates: funnel.rates, wonRevenue: wonRevenue, won: won)
        case "paths":
            var paths = PathsAccumulator(by: try Query.choice(request, "by", TouchField.self) ?? .channel, range: range)
            try store.forEachJourney { _, journey in paths.add(journey) }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: paths.paths(name: name_).csv())))
        default:
            throw Problem(.notFound, "no report \(name): attribution, funnel, quality, sla, monthly, plan, paths or account-funnel")
        }
        let accept = request.headers[.accept] ?? ""
        if accept.contains("text/html") {
            let page = HTMLRenderer.page([report], title: report.title, subtitle: "LeadLedger report")
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        if accept.contains("text/csv") {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: ReportRenderer.csv(report))))
        }
        return jsonResponse(ReportRenderer.json(report))
    }
}

extension Query {
    static func text(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func number(_ request: Request, _ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = text(request, name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw Problem(.badRequest, "\(name)=\(text) must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ request: Request, _ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        guard let text = text(request, name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw Problem(.badRequest, "\(name)=\(text) is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
