import LeadDomain

/// The attribution models of SPEC section 5.
public enum AttributionModel: String, Sendable, CaseIterable {
    case firstTouch = "first-touch"
    case lastTouch = "last-touch"
    case leadCreation = "lead-creation"
    case linear
    case uShaped = "u-shaped"
    case wShaped = "w-shaped"
    case fullPath = "full-path"
    case positionBased = "position-based"
    case timeDecay = "time-decay"
    case markov

    /// Models that need only the order of a path's channels (usable on a paths CSV).
    public var worksOnPaths: Bool {
        switch self {
        case .firstTouch, .lastTouch, .linear, .positionBased, .markov: return true
        default: return false
        }
    }
}

/// One conversion's path as the heuristic models see it: touch times in order, and the
/// times of the milestones.
public struct ConversionPath: Sendable {
    /// Touch times, ascending; only touches at or before the conversion.
    public var touches: [Timestamp]
    public var createdAt: Timestamp
    public var opportunityAt: Timestamp?
    public var convertedAt: Timestamp

    public init(touches: [Timestamp], createdAt: Timestamp, opportunityAt: Timestamp?, convertedAt: Timestamp) {
        self.touches = touches
        self.createdAt = createdAt
        self.opportunityAt = opportunityAt
        self.convertedAt = convertedAt
    }
}

/// Position-based and milestone models as groups of touches with shares. Decisions where the
/// spec is silent: the lead-creation touch is the last touch at or before the capture, else
/// the first touch; the opportunity-creation touch likewise for `opportunity.opened` (the
/// latest one at or before the conversion); the closed-won touch is the last touch.
public enum Heuristics {
    /// Credits per touch (summing to 1) of one conversion under a heuristic model.
    public static func credits(_ model: AttributionModel, _ path: ConversionPath, halfLifeDays: Double = 7) -> [Double] {
        let n = path.touches.count
        guard n > 0 else { return [] }
        if n == 1 { return [1] }
        let first = 0
        let last = n - 1
        let creation = lastIndex(atOrBefore: path.createdAt, in: path.touches) ?? first
        let opportunity = path.opportunityAt.flatMap { lastIndex(atOrBefore: $0, in: path.touches) } ?? first
        switch model {
        case .firstTouch: return distribute([(1, [first])], count: n)
        case .lastTouch: return distribute([(1, [last])], count: n)
        case .leadCreation: return distribute([(1, [creation])], count: n)
        case .linear: return Array(repeating: 1 / Double(n), count: n)
        case .uShaped:
            let between = creation > first + 1 ? Array(first + 1..<creation) : []
            return distribute([(0.4, [first]), (0.4, [creation]), (0.2, between)], count: n)
        case .wShaped:
            let milestones: Set = [first, creation, opportunity]
            return distribute([(0.3, [first]), (0.3, [creation]), (0.3, [opportunity]), (0.1, (0..<n).filter { !milestones.contains($0) })], count: n)
        case .fullPath:
            let milestones: Set = [first, creation, opportunity, last]
            return distribute([(0.225, [first]), (0.225, [creation]), (0.225, [opportunity]), (0.225, [last]),
                               (0.1, (0..<n).filter { !milestones.contains($0) })], count: n)
        case .positionBased:
            return distribute([(0.4, [first]), (0.4, [last]), (0.2, Array(first + 1..<last))], count: n)
        case .timeDecay:
            let weights = path.touches.map { Double.pow2(-$0.days(until: path.convertedAt) / halfLifeDays) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        case .markov:
            preconditionFailure("markov is not a per-conversion heuristic")
        }
    }

    /// Position-only models on a bare channel path (no times): first, last, linear,
    /// position-based.
    public static func credits(_ model: AttributionModel, touches n: Int) -> [Double] {
        guard n > 0 else { return [] }
        if n == 1 { return [1] }
        switch model {
        case .firstTouch: return distribute([(1, [0])], count: n)
        case .lastTouch: return distribute([(1, [n - 1])], count: n)
        case .positionBased: return distribute([(0.4, [0]), (0.4, [n - 1]), (0.2, Array(1..<n - 1))], count: n)
        default: return Array(repeating: 1 / Double(n), count: n)
        }
    }

    /// Spreads each group's share evenly over its touches; a group with no touches is
    /// dropped and the others scaled up in proportion; coinciding touches add up.
    public static func distribute(_ groups: [(share: Double, touches: [Int])], count: Int) -> [Double] {
        let present = groups.filter { !$0.touches.isEmpty }
        let total = present.reduce(0) { $0 + $1.share }
        var credits = Array(repeating: 0.0, count: count)
        guard total > 0 else { return credits }
        for group in present {
            let each = group.share / total / Double(group.touches.count)
            for touch in group.touches { credits[touch] += each }
        }
        return credits
    }

    static func lastIndex(atOrBefore time: Timestamp, in touches: [Timestamp]) -> Int? {
        touches.lastIndex { $0 <= time }
    }
}
