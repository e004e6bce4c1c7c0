import LeadDomain
import LedgerJSON
import Reports
import Testing
import TestSupport

/// No report may crash on any value a store can hold: ingest bounds amounts, but a store
/// written before the bounds (or a CSV `inf` of old) may hold any double, and sums of
/// accepted amounts pass 2^63. Every report and model is built from such journeys and
/// rendered in every format; the test passes if the process survives and the figures that
/// can be shown are.
@Suite("Reports on extreme stored values")
struct ExtremeValuesTests {
    static let extremes: [Double] = [
        0, 0.004, 1e15, 9.3e18, 1e19, 1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .nan,
    ]

    static func t(_ day: Double) -> Timestamp { Events.at("2026-03-01T00:00:00Z").adding(days: day) }

    /// A lead that went all the way to a won deal of `revenue`, with touches on two channels,
    /// a handoff answered late and a rejection whose reason code is out of range.
    static func journey(revenue: Double, index: Int) -> Journey {
        var journey = Journey(capturedAt: t(Double(index)))
        journey.source = 1
        journey.campaign = 2
        journey.channel = 3
        for stage in journey.reached.indices { journey.reached[stage] = t(Double(index) + Double(stage)) }
        journey.touches = [
            Touchpoint(at: t(Double(index) - 1), position: 1, channel: 3, campaign: 2, content: 0, source: 1),
            Touchpoint(at: t(Double(index) + 1), position: 2, channel: 4, campaign: 2, content: 5, source: 1),
        ]
        journey.handoffs = [Handoff(at: t(Double(index) + 1), owner: 6, respondedAt: t(Double(index) + 4))]
        journey.rejections = [Rejection(at: t(Double(index) + 2), reason: 200, owner: 6)]
        journey.accepts = 1
        journey.opportunities = [t(Double(index) + 4)]
        journey.wonAt = t(Double(index) + 5)
        journey.revenue = revenue
        return journey
    }

    static func name(_ id: UInt32) -> String { "dim-\(id)" }

    func renderEveryWay(_ report: Report) {
        let table = ReportRenderer.table(report)
        let csv = ReportRenderer.csv(report)
        let json = JSONWriter.render(ReportRenderer.json(report))
        let html = HTMLRenderer.page([report], title: report.title)
        #expect(!table.isEmpty && !csv.isEmpty && !html.isEmpty)
        // The JSON form stays JSON: a value it cannot carry is null, never `inf` or `nan`.
        #expect((try? JSONParser.parse(json)) != nil, "\(report.name): \(json.prefix(300))")
    }

    func reports(_ journeys: [Journey]) -> [Report] {
        var reports: [Report] = []
        for model in AttributionModel.allCases {
            for order in model == .markov ? [1, 2] : [1] {
                var accumulator = AttributionAccumulator(settings: AttributionSettings(model: model, by: .channel, halfLifeDays: 7, lookbackDays: 90, order: order))
                for journey in journeys { accumulator.add(journey) }
                reports.append(accumulator.report(name: Self.name))
            }
        }
        var funnel = FunnelAccumulator(grouping: .source)
        var quality = QualityAccumulator(grouping: .source)
        var sla = SLAAccumulator(withinHours: 24, now: Self.t(400))
        var monthly = MonthlyAccumulator()
        var paths = PathsAccumulator(by: .channel)
        var won = 0
        var wonRevenue = 0.0
        for journey in journeys {
            funnel.add(journey, name: Self.name)
            quality.add(journey, name: Self.name)
            sla.add(journey)
            monthly.add(journey)
            paths.add(journey)
            won += 1
            wonRevenue += journey.revenue
        }
        reports += [funnel.report(), quality.report(), sla.report(name: Self.name), monthly.report()]
        for goal in [1.0, 1e15] {
            reports.append(ReverseFunnel.plan(revenue: goal, counts: funnel.counts, rates: funnel.rates, wonRevenue: wonRevenue, won: won))
        }
        let channelPaths = paths.paths(name: Self.name)
        _ = channelPaths.csv()
        for model in AttributionModel.allCases where model.worksOnPaths {
            reports.append(channelPaths.attribution(model, order: 1))
        }
        return reports
    }

    @Test(arguments: extremes)
    func everyReportAndModelRendersEveryFormatWhateverTheRevenue(revenue: Double) {
        // One lead, and many: sums of large amounts overflow what one lead holds.
        for count in [1, 3] {
            let journeys = (0..<count).map { Self.journey(revenue: revenue, index: $0) }
            for report in reports(journeys) { renderEveryWay(report) }
        }
    }

    @Test func mixedExtremesRenderToo() {
        let journeys = Self.extremes.enumerated().map { Self.journey(revenue: $1, index: $0) }
        for report in reports(journeys) { renderEveryWay(report) }
    }

    /// The figure people read: whole numbers are grouped up to 10^18, larger ones are given in
    /// the shortest exponent form, and what is not a number is shown as a missing value.
    @Test func largeAndNonFiniteNumbersAreFormattedWithoutTrapping() {
        #expect(ReportRenderer.format(.number(1e15), .money) == "1,000,000,000,000,000.00")
        #expect(ReportRenderer.format(.number(123_456_789_012_345_678), .count) == "123,456,789,012,345,680")
        #expect(ReportRenderer.format(.number(1e19), .money) == "1e+19")
        #expect(ReportRenderer.format(.number(-1e19), .count) == "-1e+19")
        #expect(ReportRenderer.format(.number(.greatestFiniteMagnitude), .money) == "1.7976931348623157e+308")
        // (As a percentage it is past every double.)
        #expect(ReportRenderer.format(.number(.greatestFiniteMagnitude), .ratio) == "-")
        #expect(ReportRenderer.format(.number(.infinity), .money) == "-")
        #expect(ReportRenderer.format(.number(-.infinity), .count) == "-")
        #expect(ReportRenderer.format(.number(.nan), .ratio) == "-")
        #expect(ReportRenderer.format(.number(-0.004), .money) == "0.00")
        #expect(ReportRenderer.format(.number(-1234.5), .money) == "-1,234.50")
    }

    @Test func aPlanWithDealsWorthNothingNeedsMoreHistoryInsteadOfInfinitelyManyLeads() {
        let plan = ReverseFunnel.plan(revenue: 1e15, counts: [10, 5, 4, 3, 2, 1], rates: [0.5, 0.8, 0.75, 0.66, 0.5], wonRevenue: 0, won: 1)
        #expect(plan.rows.allSatisfy { plan.value($0, "needed") == .null })
        #expect(plan.notes.first?.contains("not enough history") == true)
        renderEveryWay(plan)
    }
}
