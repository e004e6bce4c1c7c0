import LeadDomain
import LedgerJSON

/// Channel paths in the ChannelAttribution CSV format:
/// `path;total_conversions;total_conversion_value;total_null`, paths like `a > b > c`.
public struct ChannelPaths: Sendable {
    public struct Row: Sendable, Equatable {
        public var channels: [String]
        public var conversions: Double
        public var value: Double
        public var nulls: Double

        public init(channels: [String], conversions: Double, value: Double, nulls: Double) {
            self.channels = channels
            self.conversions = conversions
            self.value = value
            self.nulls = nulls
        }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let header = "path;total_conversions;total_conversion_value;total_null"
    public var rows: [Row]

    public init(rows: [Row]) {
        self.rows = rows
    }

    /// Parses the CSV (a header line, then one path per line). Channels are trimmed; empty
    /// ones skipped, as ChannelAttribution does.
    public init(csv text: String) throws(ParseError) {
        var rows: [Row] = []
        var sawHeader = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " }) { continue }
            let number = offset + 1
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            if !sawHeader {
                sawHeader = true
                guard fields.count == 4, fields[0].trimmed == "path" else {
                    throw ParseError(line: number, message: "expected the header \(Self.header)")
                }
                continue
            }
            guard fields.count == 4 else {
                throw ParseError(line: number, message: "expected 4 fields separated by ';', found \(fields.count)")
            }
            func count(_ index: Int, _ name: String) throws(ParseError) -> Double {
                guard let value = Double(fields[index].trimmed), value >= 0, value.isFinite else {
                    throw ParseError(line: number, message: "\(name) \"\(fields[index])\" is not a number ≥ 0")
                }
                return value
            }
            let channels = fields[0].split(separator: ">").map { $0.trimmed }.filter { !$0.isEmpty }
            guard !channels.isEmpty else { throw ParseError(line: number, message: "the path is empty") }
            rows.append(Row(channels: channels, conversions: try count(1, "total_conversions"),
                            value: try count(2, "total_conversion_value"), nulls: try count(3, "total_null")))
        }
        guard sawHeader else { throw ParseError(line: 1, message: "the file is empty; expected the header \(Self.header)") }
        self.rows = rows
    }

    /// The CSV text, rows sorted by path for a stable export.
    public func csv() -> String {
        var lines = [Self.header]
        for row in rows.sorted(by: { $0.channels.lexicographicallyPrecedes($1.channels) }) {
            lines.append([row.channels.joined(separator: " > "), number(row.conversions), number(row.value), number(row.nulls)].joined(separator: ";"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func number(_ value: Double) -> String {
        JSONWriter.render(.number(value))
    }

    /// Attribution over the paths: first-touch, last-touch and linear as ChannelAttribution's
    /// heuristic models compute them (linear per occurrence: `a > a > b` gives a 2/3),
    /// position-based on the channel sequence, and Markov in closed form (order `order`).
    public func attribution(_ model: AttributionModel, order: Int = 1) -> Report {
        var names: [String] = []
        var ids: [String: Int] = [:]
        func id(_ channel: String) -> Int {
            if let known = ids[channel] { return known }
            ids[channel] = names.count
            names.append(channel)
            return names.count - 1
        }
        var conversions: [Int: Double] = [:]
        var values: [Int: Double] = [:]
        var effects: [Int: Double]?
        let totalConversions = rows.reduce(0) { $0 + $1.conversions }
        let totalValue = rows.reduce(0) { $0 + $1.value }
        if model == .markov {
            var chain = MarkovChain(order: order)
            for row in rows {
                chain.add(MarkovChain.Path(channels: row.channels.map(id), conversions: row.conversions, value: row.value, nulls: row.nulls))
            }
            let result = chain.solve()
            effects = result.removalEffects
            for index in names.indices {
                conversions[index] = result.conversions(index)
                values[index] = result.value(index)
            }
        } else {
            for row in rows {
                let mapped = row.channels.map(id)
                for (channel, share) in zip(mapped, Heuristics.credits(model, touches: mapped.count)) {
                    conversions[channel, default: 0] += share * row.conversions
                    values[channel, default: 0] += share * row.value
                }
            }
        }
        var columns = [Report.Column("conversions", "conversions", .number), Report.Column("revenue", "conversion value", .money),
                       Report.Column("share", "share", .ratio)]
        if effects != nil { columns.append(Report.Column("removalEffect", "removal effect", .ratio)) }
        let ranked = names.indices.sorted { ((values[$0] ?? 0), names[$1]) > ((values[$1] ?? 0), names[$0]) }
        return Report(
            name: "attribution-paths", title: "Attribution over channel paths, \(model.rawValue) model", model: model.rawValue, by: "channel", keyTitle: "channel",
            columns: columns,
            rows: ranked.map { index in
                var row: [JSONValue] = [.number(conversions[index] ?? 0), .number(values[index] ?? 0),
                                        .number(totalConversions > 0 ? (conversions[index] ?? 0) / totalConversions : 0)]
                if let effects { row.append(.number(effects[index] ?? 0)) }
                return Report.Row(key: names[index], values: row)
            },
            totals: ["conversions": .number(totalConversions), "revenue": .number(totalValue), "share": .number(1)],
            extra: ["paths": .integer(rows.count), "order": model == .markov ? .integer(order) : .null],
            chart: .bars(["conversions", "revenue"]))
    }
}

extension Substring {
    var trimmed: String {
        var view = self
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}

/// Exports the store's journeys as ChannelAttribution paths: one path per lead with touches,
/// its touch keys in time order, up to the conversion for a lead won in range, all of them
/// for a lead never won; identical paths are summed.
public struct PathsAccumulator: Sendable {
    public let by: TouchField
    public let range: TimeRange
    private var paths = PathCounts()

    public init(by: TouchField = .channel, range: TimeRange = TimeRange()) {
        self.by = by
        self.range = range
    }

    public mutating func add(_ journey: Journey) {
        var touches = journey.touches
        if let wonAt = journey.wonAt {
            guard range.contains(wonAt) else { return }
            touches = touches.filter { $0.at <= wonAt }
        }
        guard !touches.isEmpty else { return }
        paths.add(touches.map { $0.key(by) }, converted: journey.wonAt != nil, revenue: journey.revenue)
    }

    public func paths(name: (UInt32) -> String) -> ChannelPaths {
        ChannelPaths(rows: paths.counts.map { path, counts in
            ChannelPaths.Row(channels: path.map { $0 == 0 ? "(none)" : name($0) }, conversions: counts.conversions, value: counts.value, nulls: counts.nulls)
        })
    }
}

/// Distinct paths of interned keys with how many journeys converted on them (and their
/// revenue) and how many did not.
struct PathCounts: Sendable {
    private(set) var counts: [[UInt32]: (conversions: Double, value: Double, nulls: Double)] = [:]

    mutating func add(_ path: [UInt32], converted: Bool, revenue: Double) {
        var entry = counts[path] ?? (0, 0, 0)
        if converted {
            entry.conversions += 1
            entry.value += revenue
        } else {
            entry.nulls += 1
        }
        counts[path] = entry
    }
}
