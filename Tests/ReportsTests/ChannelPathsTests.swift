import Foundation
import LedgerJSON
import Reports
import Testing
import TestSupport

@Suite("ChannelAttribution paths: parsing, heuristics against an independent computation, Markov")
struct ChannelPathsTests {
    /// The real 10,000-path data set (a copy of `../shared/datasets/channel-paths.csv`, kept
    /// in the repository so that a clone alone runs these tests).
    static let datasetPath = Fixtures.path("channel-paths.csv")

    /// The heuristic models computed the plain way, straight from the file's text: first and
    /// last channel take the row's conversions and value; linear gives each occurrence 1/n.
    static func expected(_ text: String) -> (first: [String: (Double, Double)], last: [String: (Double, Double)], linear: [String: (Double, Double)]) {
        var first: [String: (Double, Double)] = [:]
        var last: [String: (Double, Double)] = [:]
        var linear: [String: (Double, Double)] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: ";").map(String.init)
            let channels = parts[0].components(separatedBy: ">").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let conversions = Double(parts[1])!
            let value = Double(parts[2])!
            first[channels.first!, default: (0, 0)].0 += conversions
            first[channels.first!, default: (0, 0)].1 += value
            last[channels.last!, default: (0, 0)].0 += conversions
            last[channels.last!, default: (0, 0)].1 += value
            for channel in channels {
                linear[channel, default: (0, 0)].0 += conversions / Double(channels.count)
                linear[channel, default: (0, 0)].1 += value / Double(channels.count)
            }
        }
        return (first, last, linear)
    }

    func rows(_ report: Report) -> [String: (Double, Double)] {
        Dictionary(uniqueKeysWithValues: report.rows.map { row in
            (row.key, (report.value(row, "conversions").doubleValue ?? .nan, report.value(row, "revenue").doubleValue ?? .nan))
        })
    }

    func check(_ actual: [String: (Double, Double)], _ expected: [String: (Double, Double)]) {
        for (channel, (conversions, value)) in expected where conversions > 0 || value > 0 {
            let got = actual[channel]
            #expect(got != nil, "\(channel) missing")
            #expect(abs((got?.0 ?? 0) - conversions) < 1e-6, "\(channel) conversions")
            #expect(abs((got?.1 ?? 0) - value) < 1e-6, "\(channel) value")
        }
    }

    @Test func firstLastAndLinearEqualChannelAttributionsHeuristicModelsOnTheRealDataSet() throws {
        let text = try String(contentsOfFile: Self.datasetPath, encoding: .utf8)
        let paths = try ChannelPaths(csv: text)
        #expect(paths.rows.count == 10_000)
        let expected = Self.expected(text)
        check(rows(paths.attribution(.firstTouch)), expected.first)
        check(rows(paths.attribution(.lastTouch)), expected.last)
        check(rows(paths.attribution(.linear)), expected.linear)
        // Every model's credit sums to the conversions.
        let total = paths.rows.reduce(0) { $0 + $1.conversions }
        for model in [AttributionModel.firstTouch, .lastTouch, .linear, .positionBased, .markov] {
            let sum = paths.attribution(model).rows.reduce(0) { $0 + ($1.values[0].doubleValue ?? 0) }
            #expect(abs(sum - total) < 1e-6, "\(model)")
        }
    }

    @Test func markovOnTheRealDataSetIsDeterministicAndRanksChannels() throws {
        let paths = try ChannelPaths(csv: String(contentsOfFile: Self.datasetPath, encoding: .utf8))
        let first = paths.attribution(.markov)
        let second = paths.attribution(.markov)
        #expect(JSONWriter.render(ReportRenderer.json(first)) == JSONWriter.render(ReportRenderer.json(second)))
        let effects = first.rows.compactMap { first.value($0, "removalEffect").doubleValue }
        #expect(effects.count == first.rows.count)
        #expect(effects.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func parseErrorsNameTheLine() {
        let notANumber = #expect(throws: ChannelPaths.ParseError.self) {
            _ = try ChannelPaths(csv: "path;total_conversions;total_conversion_value;total_null\na > b;1;x;0\n")
        }
        #expect(notANumber?.line == 2)
        let fieldShort = #expect(throws: ChannelPaths.ParseError.self) {
            _ = try ChannelPaths(csv: "path;total_conversions;total_conversion_value;total_null\na > b;1;2;0\nc;1;2\n")
        }
        #expect(fieldShort?.line == 3)
        #expect(fieldShort?.message.contains("4 fields") == true)
        let noHeader = #expect(throws: ChannelPaths.ParseError.self) { _ = try ChannelPaths(csv: "a;b\n") }
        #expect(noHeader?.line == 1)
    }

    @Test func exportParsesBackToTheSamePaths() throws {
        let paths = ChannelPaths(rows: [
            .init(channels: ["email", "webinar"], conversions: 2, value: 150.5, nulls: 3),
            .init(channels: ["organic"], conversions: 0, value: 0, nulls: 7),
        ])
        let parsed = try ChannelPaths(csv: paths.csv())
        #expect(parsed.rows.sorted { $0.channels.lexicographicallyPrecedes($1.channels) } == paths.rows.sorted { $0.channels.lexicographicallyPrecedes($1.channels) })
        #expect(paths.csv().hasPrefix("path;total_conversions;total_conversion_value;total_null\nemail > webinar;2;150.5;3\n"))
    }
}
