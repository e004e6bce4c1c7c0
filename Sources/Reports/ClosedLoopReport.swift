import LeadDomain
import LedgerJSON

/// The closed-loop page, from one walk over the journeys: every model side by side (by
/// channel, then by campaign) first, then the W-shaped and Markov attributions, the funnel,
/// lead quality, the sales SLA and monthly leads against bookings.
public struct ClosedLoopReport: Sendable {
    /// The time the SLA counts unanswered handoffs up to, and the monthly report's "to date".
    public let now: Timestamp
    private var byChannel = AttributionComparison(settings: AttributionSettings(model: .wShaped, by: .channel))
    private var byCampaign = AttributionComparison(settings: AttributionSettings(model: .wShaped, by: .campaign))
    private var wShaped = AttributionAccumulator(settings: AttributionSettings(model: .wShaped, by: .channel))
    private var markov = AttributionAccumulator(settings: AttributionSettings(model: .markov, by: .channel))
    private var funnel = FunnelAccumulator(grouping: .source)
    private var quality = QualityAccumulator(grouping: .source)
    private var sla: SLAAccumulator
    private var monthly = MonthlyAccumulator()

    public init(now: Timestamp, slaWithinHours: Double = 24) {
        self.now = now
        sla = SLAAccumulator(withinHours: slaWithinHours, now: now)
    }

    public mutating func add(_ journey: Journey, name: (UInt32) -> String) {
        byChannel.add(journey)
        byCampaign.add(journey)
        wShaped.add(journey)
        markov.add(journey)
        funnel.add(journey, name: name)
        quality.add(journey, name: name)
        sla.add(journey)
        monthly.add(journey)
    }

    /// The page's reports, in its order.
    public func reports(name: (UInt32) -> String) -> [Report] {
        var months = monthly.report()
        if let last = months.rows.last?.key, last == now.yearMonth {
            months.notes.append("\(last) is the month to date: the data runs to \(now.date).")
        }
        return [
            byChannel.report(name: name), byCampaign.report(name: name), wShaped.report(name: name), markov.report(name: name),
            funnel.report(), quality.report(), sla.report(name: name), months,
        ]
    }
}
