import LeadDomain
import LedgerJSON

public struct AttributionSettings: Sendable {
    public var model: AttributionModel
    public var by: TouchField
    /// Conversions (won deals) closed in [from, to).
    public var from: Timestamp?
    public var to: Timestamp?
    public var halfLifeDays: Double
    /// Only touches within this many days before the conversion count.
    public var lookbackDays: Double?
    /// Markov order.
    public var order: Int

    public init(model: AttributionModel, by: TouchField = .channel, from: Timestamp? = nil, to: Timestamp? = nil,
                halfLifeDays: Double = 7, lookbackDays: Double? = nil, order: Int = 1) {
        self.model = model
        self.by = by
        self.from = from
        self.to = to
        self.halfLifeDays = halfLifeDays
        self.lookbackDays = lookbackDays
        self.order = order
    }

    func inRange(_ time: Timestamp) -> Bool {
        TimeRange(from: from, to: to).contains(time)
    }
}

/// Closed-loop attribution over journeys, one journey at a time (memory does not grow with
/// the number of leads, except Markov's distinct paths).
///
/// A conversion is a won deal closed in range; its revenue the deal's amount. Its touches
/// are the lead's touchpoints at or before it (and within the lookback, if set). A conversion
/// without touches is credited to `(no touchpoint)`; a touch without the grouped field to
/// `(none)` (a touch's `source` defaults to the lead's source).
public struct AttributionAccumulator: Sendable {
    public static let noTouchpoint = UInt32.max
    public let settings: AttributionSettings
    private var conversions: [UInt32: Double] = [:]
    private var revenue: [UInt32: Double] = [:]
    private var totalConversions = 0
    private var totalRevenue = 0.0
    private var paths = PathCounts()

    public init(settings: AttributionSettings) {
        self.settings = settings
    }

    public mutating func add(_ journey: Journey) {
        var touches = journey.touches
        if let wonAt = journey.wonAt {
            guard settings.inRange(wonAt) else { return }
            let lookback = settings.lookbackDays
            touches = touches.filter { touch in
                touch.at <= wonAt && (lookback.map { touch.at.days(until: wonAt) <= $0 } ?? true)
            }
            totalConversions += 1
            totalRevenue += journey.revenue
        } else if settings.model != .markov {
            return
        }
        let keys = touches.map { $0.key(settings.by) }

        if settings.model == .markov {
            // A conversion without touches is no path of the chain: it is credited whole to
            // (no touchpoint), and the chain shares out the other conversions.
            guard !keys.isEmpty else {
                if journey.wonAt != nil { credit(Self.noTouchpoint, 1, journey.revenue) }
                return
            }
            paths.add(keys, converted: journey.wonAt != nil, revenue: journey.revenue)
            return
        }

        guard let wonAt = journey.wonAt else { return }
        guard !keys.isEmpty else {
            credit(Self.noTouchpoint, 1, journey.revenue)
            return
        }
        let path = ConversionPath(touches: touches.map(\.at), createdAt: journey.capturedAt, opportunityAt: journey.opportunityAt, convertedAt: wonAt)
        for (key, share) in zip(keys, Heuristics.credits(settings.model, path, halfLifeDays: settings.halfLifeDays)) where share > 0 {
            credit(key, share, journey.revenue)
        }
    }

    private mutating func credit(_ key: UInt32, _ share: Double, _ amount: Double) {
        conversions[key, default: 0] += share
        revenue[key, default: 0] += share * amount
    }

    /// The report, with ids named by `name` (0 is `(none)`).
    public func report(name: (UInt32) -> String) -> Report {
        func label(_ id: UInt32) -> String {
            id == 0 ? "(none)" : id == Self.noTouchpoint ? "(no touchpoint)" : name(id)
        }
        var columns = [Report.Column("conversions", "conversions", .number), Report.Column("revenue", "revenue", .money), Report.Column("share", "share", .ratio)]
        var rows: [(key: String, conversions: Double, revenue: Double, effect: Double?)] = []
        if settings.model == .markov {
            columns.append(Report.Column("removalEffect", "removal effect", .ratio))
            // Rows without a removal effect (no touchpoint) carry null there.
            var ids: [UInt32: Int] = [:]
            var channels: [UInt32] = []
            var chain = MarkovChain(order: settings.order)
            for (path, counts) in paths.counts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                let mapped = path.map { id -> Int in
                    if let known = ids[id] { return known }
                    ids[id] = channels.count
                    channels.append(id)
                    return channels.count - 1
                }
                chain.add(MarkovChain.Path(channels: mapped, conversions: counts.conversions, value: counts.value, nulls: counts.nulls))
            }
            let result = chain.solve()
            for (index, id) in channels.enumerated() {
                rows.append((label(id), result.conversions(index), result.value(index), result.removalEffects[index] ?? 0))
            }
            if let touchless = conversions[Self.noTouchpoint] {
                rows.append((label(Self.noTouchpoint), touchless, revenue[Self.noTouchpoint] ?? 0, nil))
            }
        } else {
            for (id, credit) in conversions {
                rows.append((label(id), credit, revenue[id] ?? 0, nil))
            }
        }
        rows.sort { ($0.revenue, $1.key) > ($1.revenue, $0.key) }
        let total = Double(totalConversions)
        return Report(
            name: "attribution",
            title: "Attribution of won revenue by \(settings.by.rawValue), \(settings.model.rawValue) model",
            model: settings.model.rawValue, by: settings.by.rawValue, keyTitle: settings.by.rawValue,
            columns: columns,
            rows: rows.map { row in
                var values: [JSONValue] = [.number(row.conversions), .number(row.revenue), .number(total > 0 ? row.conversions / total : 0)]
                if settings.model == .markov { values.append(row.effect.map(JSONValue.number) ?? .null) }
                return Report.Row(key: row.key, values: values)
            },
            totals: ["conversions": .number(total), "revenue": .number(totalRevenue), "share": .number(total > 0 ? 1 : 0)],
            extra: [
                "from": .nullable(settings.from?.rfc3339), "to": .nullable(settings.to?.rfc3339),
                "halfLifeDays": settings.model == .timeDecay ? .number(settings.halfLifeDays) : .null,
                "lookbackDays": settings.lookbackDays.map(JSONValue.number) ?? .null,
                "order": settings.model == .markov ? .integer(settings.order) : .null,
            ],
            chart: .bars(["revenue", "conversions"]),
            notes: ["conversions: won deals closed in range, credited fractionally to touches; revenue: credit × deal amount."])
    }
}
