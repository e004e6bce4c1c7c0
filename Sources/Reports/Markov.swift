/// Data-driven attribution on the Markov chain of channel paths, in closed form: the
/// probability of reaching the conversion from the start is the solution of the absorbing
/// chain's linear system, and a channel's removal effect is the relative drop of that
/// probability when every state containing the channel leads to null instead. Deterministic:
/// no simulation.
public struct MarkovChain: Sendable {
    /// A path of channel ids with how many conversions (and their value) and null outcomes it
    /// stands for.
    public struct Path: Sendable {
        public var channels: [Int]
        public var conversions: Double
        public var value: Double
        public var nulls: Double

        public init(channels: [Int], conversions: Double, value: Double, nulls: Double) {
            self.channels = channels
            self.conversions = conversions
            self.value = value
            self.nulls = nulls
        }
    }

    public struct Result: Sendable, Equatable {
        /// Probability of conversion from the start.
        public var conversionProbability: Double
        /// Removal effect per channel id.
        public var removalEffects: [Int: Double]
        public var totalConversions: Double
        public var totalValue: Double

        /// Conversions credited to a channel: total × its removal effect / Σ removal effects.
        public func conversions(_ channel: Int) -> Double {
            share(channel) * totalConversions
        }

        public func value(_ channel: Int) -> Double {
            share(channel) * totalValue
        }

        func share(_ channel: Int) -> Double {
            // Summed in channel order: the same bytes on every run (dictionary order is not).
            let sum = removalEffects.keys.sorted().reduce(0) { $0 + removalEffects[$1]! }
            return sum > 0 ? (removalEffects[channel] ?? 0) / sum : 0
        }
    }

    /// States of an order-k chain: windows of k consecutive channels (as ChannelAttribution
    /// builds them: a path c1…cn has states (c1…ck), (c2…ck+1), …; a path shorter than k is
    /// one state holding the whole path).
    struct State: Hashable {
        var channels: [Int]
    }

    let order: Int
    /// State index → channels it contains.
    private var states: [State] = []
    private var index: [State: Int] = [:]
    /// Weighted transition counts: from state (or start = -1) to state, conversion = -2, null = -3.
    private var counts: [Int: [Int: Double]] = [:]
    private var totalConversions = 0.0
    private var totalValue = 0.0

    static let start = -1
    static let conversion = -2
    static let null = -3

    public init(order: Int = 1) {
        self.order = max(1, order)
    }

    public init(paths: [Path], order: Int = 1) {
        self.init(order: order)
        for path in paths { add(path) }
    }

    /// Adds a path's transitions, weighted by how many journeys it stands for.
    public mutating func add(_ path: Path) {
        let weight = path.conversions + path.nulls
        totalConversions += path.conversions
        totalValue += path.value
        guard !path.channels.isEmpty, weight > 0 else { return }
        var previous = Self.start
        let windows = path.channels.count <= order ? 1 : path.channels.count - order + 1
        for start in 0..<windows {
            let window = Array(path.channels[start..<min(path.channels.count, start + order)])
            let state = stateIndex(State(channels: window))
            counts[previous, default: [:]][state, default: 0] += weight
            previous = state
        }
        if path.conversions > 0 { counts[previous, default: [:]][Self.conversion, default: 0] += path.conversions }
        if path.nulls > 0 { counts[previous, default: [:]][Self.null, default: 0] += path.nulls }
    }

    private mutating func stateIndex(_ state: State) -> Int {
        if let existing = index[state] { return existing }
        index[state] = states.count
        states.append(state)
        return states.count - 1
    }

    /// Solves the chain, and the chain without each channel.
    public func solve() -> Result {
        let channels = Set(states.flatMap(\.channels)).sorted()
        let base = conversionProbability(removing: nil)
        var effects: [Int: Double] = [:]
        for channel in channels {
            let without = conversionProbability(removing: channel)
            effects[channel] = base > 0 ? max(0, 1 - without / base) : 0
        }
        return Result(conversionProbability: base, removalEffects: effects, totalConversions: totalConversions, totalValue: totalValue)
    }

    /// P(conversion | start) with the states containing `removed` turned into null.
    func conversionProbability(removing removed: Int?) -> Double {
        // Unknowns: the live states; a removed state has probability 0.
        var live: [Int] = []
        var column = Array(repeating: -1, count: states.count)
        for (i, state) in states.enumerated() where removed == nil || !state.channels.contains(removed!) {
            column[i] = live.count
            live.append(i)
        }
        let n = live.count
        guard n > 0 else { return 0 }
        // (I − Q) x = b, from normalised transition counts.
        var rows: [[(Int, Double)]] = Array(repeating: [], count: n)
        var b = Array(repeating: 0.0, count: n)
        for (row, state) in live.enumerated() {
            guard let outgoing = counts[state] else { continue }
            let targets = outgoing.sorted { $0.key < $1.key }
            let total = targets.reduce(0) { $0 + $1.value }
            guard total > 0 else { continue }
            for (target, count) in targets {
                let p = count / total
                if target == Self.conversion {
                    b[row] += p
                } else if target >= 0, column[target] >= 0 {
                    rows[row].append((column[target], p))
                }
            }
        }
        let x = n <= 600 ? Self.solveDense(rows: rows, b: b) : Self.solveIteratively(rows: rows, b: b)
        // From the start.
        guard let first = counts[Self.start] else { return 0 }
        let targets = first.sorted { $0.key < $1.key }
        let total = targets.reduce(0) { $0 + $1.value }
        var p = 0.0
        for (target, count) in targets where target >= 0 && column[target] >= 0 {
            p += count / total * x[column[target]]
        }
        return p
    }

    /// Gaussian elimination with partial pivoting on I − Q.
    static func solveDense(rows: [[(Int, Double)]], b: [Double]) -> [Double] {
        let n = b.count
        var a = Array(repeating: Array(repeating: 0.0, count: n + 1), count: n)
        for i in 0..<n {
            a[i][i] = 1
            for (j, p) in rows[i] { a[i][j] -= p }
            a[i][n] = b[i]
        }
        for k in 0..<n {
            var pivot = k
            for i in k + 1..<max(k + 1, n) where abs(a[i][k]) > abs(a[pivot][k]) { pivot = i }
            if pivot != k { a.swapAt(pivot, k) }
            let diagonal = a[k][k]
            guard abs(diagonal) > 1e-300 else { continue }
            for i in k + 1..<max(k + 1, n) {
                let factor = a[i][k] / diagonal
                if factor == 0 { continue }
                for j in k...n { a[i][j] -= factor * a[k][j] }
            }
        }
        var x = Array(repeating: 0.0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = a[i][n]
            for j in i + 1..<max(i + 1, n) { sum -= a[i][j] * x[j] }
            x[i] = abs(a[i][i]) > 1e-300 ? sum / a[i][i] : 0
        }
        return x
    }

    /// Gauss–Seidel for large sparse chains (high orders): x = Qx + b until it stops moving.
    static func solveIteratively(rows: [[(Int, Double)]], b: [Double]) -> [Double] {
        var x = Array(repeating: 0.0, count: b.count)
        for _ in 0..<100_000 {
            var change = 0.0
            for i in 0..<b.count {
                var value = b[i]
                var selfLoop = 0.0
                for (j, p) in rows[i] {
                    if j == i { selfLoop += p } else { value += p * x[j] }
                }
                value = selfLoop < 1 ? value / (1 - selfLoop) : 0
                change = max(change, abs(value - x[i]))
                x[i] = value
            }
            if change < 1e-15 { break }
        }
        return x
    }
}
