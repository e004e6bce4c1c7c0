import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports
import Testing
import TestSupport

func runReferenceAttribution(_ arguments: [String]) throws -> JSONValue {
    try PythonTool.json("reference_attribution.py", arguments)
}

@Suite("Attribution over the store, against an independent implementation")
struct AttributionStoreTests {
    /// A store and the same events as a JSONL file (the log as stored).
    static func fixture() throws -> (TestStore, String) {
        let test = try TestStore("attribution")
        var events: [Envelope] = []
        Generator(leads: 400, seed: 41).generate { events.append($0) }
        let outcomes = try test.append(events)
        #expect(outcomes.allSatisfy { $0.position != nil })
        let file = try test.directory.write("events.jsonl", events.map(Events.line).joined(separator: "\n") + "\n")
        return (test, file)
    }

    func report(_ store: LeadStore, _ settings: AttributionSettings) throws -> Report {
        var accumulator = AttributionAccumulator(settings: settings)
        try store.forEachJourney { _, journey in accumulator.add(journey) }
        let names = try store.dimensionNames()
        return accumulator.report { names[$0] ?? "?" }
    }

    @Test func everyModelAndGroupingMatchesTheReference() throws {
        let (test, file) = try Self.fixture()
        let cases: [(AttributionModel, TouchField)] = AttributionModel.allCases.map { ($0, TouchField.channel) }
            + [(.wShaped, .campaign), (.uShaped, .source), (.linear, .content), (.markov, .campaign), (.timeDecay, .source)]
        for (model, by) in cases {
            let ours = ReportRenderer.json(try report(test.store, AttributionSettings(model: model, by: by)))
            let reference = try runReferenceAttribution(["--events", file, "--model", model.rawValue, "--by", by.rawValue])
            compare(ours, reference, "\(model.rawValue) by \(by.rawValue)")
        }
    }

    @Test func dateRangesAndHalfLifeMatchTheReference() throws {
        let (test, file) = try Self.fixture()
        let from = "2026-01-01T00:00:00Z", to = "2026-04-01T00:00:00Z"
        for model in [AttributionModel.fullPath, .markov, .timeDecay] {
            let ours = ReportRenderer.json(try report(test.store, AttributionSettings(
                model: model, from: Events.at(from), to: Events.at(to), halfLifeDays: 3)))
            let reference = try runReferenceAttribution(["--events", file, "--model", model.rawValue, "--from", from, "--to", to, "--half-life", "3"])
            compare(ours, reference, "\(model.rawValue) in range")
        }
    }

    func compare(_ ours: JSONValue, _ reference: JSONValue, _ label: String) {
        let mine = Dictionary(uniqueKeysWithValues: (ours["rows"]?.arrayValue ?? []).map { ($0["key"]?.stringValue ?? "", $0) })
        let theirs = Dictionary(uniqueKeysWithValues: (reference["rows"]?.arrayValue ?? []).map { ($0["key"]?.stringValue ?? "", $0) })
        #expect(!theirs.isEmpty, "\(label): reference has no rows")
        for (key, expected) in theirs {
            let conversions = expected["conversions"]?.doubleValue ?? 0
            guard let row = mine[key] else {
                #expect(conversions == 0, "\(label): \(key) missing")
                continue
            }
            #expect(abs((row["conversions"]?.doubleValue ?? .nan) - conversions) < 1e-6, "\(label): \(key) conversions")
            #expect(abs((row["revenue"]?.doubleValue ?? .nan) - (expected["revenue"]?.doubleValue ?? 0)) < 1e-4, "\(label): \(key) revenue")
            if let effect = expected["removalEffect"]?.doubleValue {
                #expect(abs((row["removalEffect"]?.doubleValue ?? .nan) - effect) < 1e-9, "\(label): \(key) removal effect")
            }
        }
        #expect(abs((ours["totals"]?["conversions"]?.doubleValue ?? -1) - (reference["totals"]?["conversions"]?.doubleValue ?? -2)) < 1e-9, "\(label) totals")
        #expect(abs((ours["totals"]?["revenue"]?.doubleValue ?? -1) - (reference["totals"]?["revenue"]?.doubleValue ?? -2)) < 1e-4, "\(label) revenue totals")
    }

    @Test func pathsExportedFromTheStoreGiveTheSameMarkovAsTheStore() throws {
        let (test, _) = try Self.fixture()
        var paths = PathsAccumulator()
        try test.store.forEachJourney { _, journey in paths.add(journey) }
        let names = try test.store.dimensionNames()
        let exported = try ChannelPaths(csv: paths.paths { names[$0] ?? "?" }.csv())
        let fromPaths = exported.attribution(.markov)
        let fromStore = try report(test.store, AttributionSettings(model: .markov))
        for row in fromStore.rows where row.key != "(no touchpoint)" {
            let other = fromPaths.rows.first { $0.key == row.key }
            #expect(abs((other.map { fromPaths.value($0, "removalEffect").doubleValue ?? .nan } ?? .nan) - (fromStore.value(row, "removalEffect").doubleValue ?? 0)) < 1e-12)
        }
    }

    /// Every model side by side: each model's column is the `share` column of that model's
    /// own report (checked against the reference above), the spread is the largest share less
    /// the smallest, and the page draws one column per model for each of the first keys.
    @Test func theComparisonPutsEachModelsShareSideBySide() throws {
        let (test, _) = try Self.fixture()
        let names = try test.store.dimensionNames()
        for by in [TouchField.channel, .campaign] {
            let settings = AttributionSettings(model: .linear, by: by, from: Events.at("2025-10-01T00:00:00Z"), halfLifeDays: 3)
            var comparison = AttributionComparison(settings: settings)
            try test.store.forEachJourney { _, journey in comparison.add(journey) }
            let compared = comparison.report { names[$0] ?? "?" }
            #expect(compared.name == "attribution-models")
            #expect(compared.by == by.rawValue)
            #expect(compared.columns.map(\.name) == AttributionComparison.models.map(\.rawValue) + ["spread"])
            #expect(Set(AttributionComparison.models) == Set(AttributionModel.allCases))
            #expect(compared.rows.count > 3)
            for model in AttributionComparison.models {
                var each = settings
                each.model = model
                let own = try report(test.store, each)
                #expect(abs((compared.totals[model.rawValue]?.doubleValue ?? 0) - 1) < 1e-12)
                var sum = 0.0
                for row in compared.rows {
                    let share = compared.value(row, model.rawValue).doubleValue ?? .nan
                    let expected = own.rows.first { $0.key == row.key }.map { own.value($0, "share").doubleValue ?? .nan } ?? 0
                    #expect(abs(share - expected) < 1e-12, "\(model.rawValue) \(row.key)")
                    sum += share
                }
                #expect(abs(sum - 1) < 1e-9, "\(model.rawValue) sums to \(sum)")
            }
            var previous = Double.infinity
            for row in compared.rows {
                let shares = AttributionComparison.models.map { compared.value(row, $0.rawValue).doubleValue ?? .nan }
                #expect(abs((compared.value(row, "spread").doubleValue ?? .nan) - (shares.max()! - shares.min()!)) < 1e-12)
                let mean = shares.reduce(0, +) / Double(shares.count)
                #expect(mean <= previous + 1e-12)
                previous = mean
            }

            let page = HTMLRenderer.page([compared], title: "models")
            let charted = min(compared.rows.count, AttributionComparison.chartedKeys)
            // One column per model for each charted key, plus the legend's ten swatches.
            #expect(page.components(separatedBy: "<rect ").count - 1 == charted * AttributionComparison.models.count + AttributionComparison.models.count)
            #expect(page.contains("The first \(charted) of \(compared.rows.count)") == (compared.rows.count > charted))
            // The table holds every key, its cells shaded by their share.
            for row in compared.rows { #expect(page.contains("<td>\(HTMLRenderer.escape(row.key))</td>")) }
            #expect(page.contains("background: rgba(37, 99, 235, 0.56)"))
        }
    }
}
