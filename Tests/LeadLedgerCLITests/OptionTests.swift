import Foundation
import LedgerJSON
import Testing
import TestSupport

/// Every numeric option is checked before anything is opened: finite, in a range that makes
/// sense, and a negative value reaches the check (swift-argument-parser otherwise reads `-5`
/// as an option and says the value is missing). Each refusal names the option.
@Suite("leadledger options: numbers and times are checked, naming the option")
struct OptionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
        init(_ arguments: [String], _ message: String) {
            self.arguments = arguments
            self.message = message
        }
    }

    static let attribution = ["report", "attribution", "--model", "time-decay"]

    static let refused: [Case] = [
        Case(["report", "plan", "--revenue", "-1"], "--revenue must be > 0 and at most 1,000,000,000,000,000, found -1"),
        Case(["report", "plan", "--revenue", "0"], "--revenue must be > 0 and at most 1,000,000,000,000,000, found 0"),
        Case(["report", "plan", "--revenue", "1e30"], "--revenue must be > 0 and at most 1,000,000,000,000,000, found 1e+30"),
        Case(["report", "plan", "--revenue", "inf"], "--revenue must be > 0 and at most 1,000,000,000,000,000, found inf"),
        Case(["report", "plan", "--revenue", "nan"], "--revenue must be > 0 and at most 1,000,000,000,000,000, found nan"),
        Case(attribution + ["--half-life", "-5"], "--half-life must be > 0 and at most 36,500 days, found -5"),
        Case(attribution + ["--half-life", "1e400"], "--half-life must be > 0 and at most 36,500 days, found inf"),
        Case(attribution + ["--half-life", "nan"], "--half-life must be > 0 and at most 36,500 days, found nan"),
        Case(attribution + ["--lookback", "-3"], "--lookback must be > 0 and at most 36,500 days, found -3"),
        Case(attribution + ["--lookback", "infinity"], "--lookback must be > 0 and at most 36,500 days, found inf"),
        Case(attribution + ["--order", "-1"], "--order must be between 1 and 4, found -1"),
        Case(["attribution", "--paths", "p.csv", "--model", "markov", "--order", "-2"], "--order must be between 1 and 4, found -2"),
        Case(["report", "sla", "--within", "-3"], "--within must be > 0 and at most 876,000 hours, found -3"),
        Case(["report", "sla", "--within", "nan"], "--within must be > 0 and at most 876,000 hours, found nan"),
        Case(["generate", "--leads", "-5"], "--leads must be between 1 and 10,000,000, found -5"),
        Case(["generate", "--leads", "100000000000"], "--leads must be between 1 and 10,000,000, found 100000000000"),
        Case(["generate", "--leads", "10", "--seed", "-5"], "The value '-5' is invalid for '--seed <seed>'"),
        Case(["demo", "--leads", "-5"], "--leads must be between 1 and 10,000,000, found -5"),
        Case(["demo", "--seed", "-1"], "The value '-1' is invalid for '--seed <seed>'"),
        Case(["bench", "--events", "-100"], "--events must be between 100 and 100,000,000, found -100"),
        Case(["bench", "--events", "9223372036854775807"], "--events must be between 100 and 100,000,000, found 9223372036854775807"),
        Case(["bench", "--runs", "-1"], "--runs must be between 1 and 20, found -1"),
        Case(["ingest", "--max-line-bytes", "-1"], "--max-line-bytes must be between 1,024 and 1,073,741,824, found -1"),
        Case(["ingest", "--max-line-bytes", "1023"], "--max-line-bytes must be between 1,024 and 1,073,741,824, found 1023"),
        Case(["report", "funnel", "--from", "-1"], "--from -1 is not a time"),
        Case(["report", "monthly", "--to", "2026-02-30"], "--to 2026-02-30 is not a time"),
        Case(["report", "funnel", "--from", "2026-05-01", "--to", "2026-03-01"], "--from 2026-05-01T00:00:00Z is not before --to 2026-03-01T00:00:00Z"),
        Case(["report", "paths", "--from", "2026-03-01", "--to", "2026-03-01"], "--from 2026-03-01T00:00:00Z is not before --to 2026-03-01T00:00:00Z"),
        Case(["audit", "--since", "-7"], "--since -7 is not a time"),
        Case(["audit", "--since", "2026-04-01", "--until", "2026-03-01"], "--since 2026-04-01T00:00:00Z is not before --until 2026-03-01T00:00:00Z"),
        Case(["lead", "show", "L-1", "--as-of", "-1"], "--as-of -1 is not a time"),
        Case(["score", "explain", "L-1", "--as-of", "yesterday"], "--as-of yesterday is not a time"),
        Case(["rescore", "--rules", "r.yaml", "--as-of", "-2026-01-01"], "--as-of -2026-01-01 is not a time"),
    ]

    @Test(arguments: refused)
    func aBadValueIsRefusedNamingTheOptionBeforeAnythingIsOpened(_ testCase: Case) throws {
        let dir = TemporaryDirectory("options")
        let store = dir.file("store")
        let result = try LeadLedgerBinary.run(testCase.arguments + ["--store", store], directory: dir.path)
        #expect(result.status != 0)
        #expect(result.status != 4 && result.status < 128, "killed by a signal: \(result.stderr.suffix(300))")
        #expect(result.stderr.contains(testCase.message), "\(result.stderr)")
        #expect(!result.stderr.contains("Missing value"))
        #expect(!FileManager.default.fileExists(atPath: store))
    }

    /// The bounds themselves are accepted (a plan for 10^15 on an empty store is a plan).
    @Test func theBoundsThemselvesAreAccepted() throws {
        let dir = TemporaryDirectory("options")
        let store = dir.file("store")
        let input = try dir.write("events.jsonl", Events.line(Events.captured("L-1")) + "\n")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store, "--max-line-bytes", "1024"]).status == 0)
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store, "--max-line-bytes", "1073741824"]).status == 0)
        for arguments in [
            ["report", "plan", "--revenue", "1e15"],
            ["report", "plan", "--revenue", "0.01"],
            Self.attribution + ["--half-life", "36500", "--lookback", "0.5", "--order", "4"],
            ["report", "sla", "--within", "876000"],
            ["report", "funnel", "--from", "2026-03-01", "--to", "2026-03-01T00:00:01Z"],
        ] {
            let result = try LeadLedgerBinary.run(arguments + ["--store", store])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
    }
}
