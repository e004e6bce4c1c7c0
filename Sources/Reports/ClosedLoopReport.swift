import LeadDomain
import LedgerJSON

/// The closed-loop page, from one walk over the journeys: every model side by side (by
/// channel, then by campaign) first, then the W-shaped and Markov attributions, the funnel,
/// lead quality, the sales SLA and monthly leads against bookings over the twelve whole
/// months before `now`'s (a month to date would draw as a fall at the end of every line).
public struct ClosedLoopReport: Sendable {
    /// The time the SLA counts unanswered handoffs up to; the monthly report ends with the
    /// month before its month.
    public let now: Timestamp
    private var byChannel = AttributionComparison(settings: AttributionSettings(model: .wShaped, by: .channel))
    private var byCampaign = AttributionComparison(settings: AttributionSettings(model: .wShaped, by: .campaign))
    private var wShaped = AttributionAccumulator(settings: AttributionSettings(model: .wShaped, by: .channel))
    private var markov = AttributionAccumulator(settings: AttributionSettings(model: .markov, by: .channel))
    private var funnel = FunnelAccumulator(grouping: .source)
    private var quality = QualityAccumulator(grouping: .source)
    private var sla: SLAAccumulator
    private var monthly: MonthlyAccumulator

    /// `model` is the attribution shown after the comparison, beside Markov (W-shaped unless
    /// a reader of the dashboard picks another).
    public init(now: Timestamp, slaWithinHours: Double = 24, model: AttributionModel = .wShaped) {
        self.now = now
        wShaped = AttributionAccumulator(settings: AttributionSettings(model: model, by: .channel))
        sla = SLAAccumulator(withinHours: slaWithinHours, now: now)
        monthly = MonthlyAccumulator(range: TimeRange(from: now.monthStart(monthsBefore: 12), to: now.monthStart()))
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
        months.title = "Monthly leads vs bookings, the twelve whole months to \(now.monthStart(monthsBefore: 1).yearMonth)"
        if now > now.monthStart() {
            months.notes.append("\(now.yearMonth) runs to \(now.date): the month to date is left out.")
        }
        return [
            byChannel.report(name: name), byCampaign.report(name: name), wShaped.report(name: name), markov.report(name: name),
            funnel.report(), quality.report(), sla.report(name: name), months,
        ]
    }
}
