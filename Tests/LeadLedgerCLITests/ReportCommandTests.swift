import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("leadledger report and attribution --paths")
struct ReportCommandTests {
    static func store(_ dir: TemporaryDirectory) throws -> String {
        var lines: [String] = []
        Generator(leads: 300, seed: 55).generate { lines.append(Events.line($0)) }
        let input = try dir.write("events.jsonl", lines.joined(separator: "\n"))
        let store = dir.file("store")
        #expect(try LeadLedgerBinary.run(["ingest", input, "--store", store]).status == 0)
        return store
    }

    func json(_ result: LeadLedgerBinary.Result) throws -> JSONValue {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func tableCSVJSONAndHTMLGiveTheSameFigures() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let base = ["report", "attribution", "--model", "w-shaped", "--by", "campaign", "--store", store]
        let report = try json(LeadLedgerBinary.run(base + ["--format", "json"]))
        #expect(report["report"] == "attribution")
        #expect(report["model"] == "w-shaped")
        #expect(report["by"] == "campaign")
        let rows = try #require(report["rows"]?.arrayValue)
        #expect(rows.count > 3)
        let top = rows[0]
        let conversions = try #require(top["conversions"]?.doubleValue)
        let revenue = try #require(top["revenue"]?.doubleValue)
        let key = try #require(top["key"]?.stringValue)
        // The credits of all rows sum to the conversions.
        let sum = rows.reduce(0.0) { $0 + ($1["conversions"]?.doubleValue ?? 0) }
        #expect(abs(sum - (report["totals"]?["conversions"]?.doubleValue ?? -1)) < 1e-9)

        let csv = try LeadLedgerBinary.run(base + ["--format", "csv"]).stdout.split(separator: "\n")
        #expect(csv.first == "key,conversions,revenue,share")
        let csvTop = csv[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(csvTop[0] == key || csvTop[0] == "\"\(key)\"")
        #expect(abs(Double(csvTop[1])! - conversions) < 1e-9)
        #expect(abs(Double(csvTop[2])! - revenue) < 1e-6)

        let table = try LeadLedgerBinary.run(base).stdout
        #expect(table.contains(key))
        #expect(table.contains(String(format: "%.2f", conversions)))

        let htmlFile = dir.file("attribution.html")
        let html = try LeadLedgerBinary.run(base + ["--format", "html", "--out", htmlFile])
        #expect(html.status == 0)
        #expect(html.stderr.contains("wrote \(htmlFile)"))
        let page = try String(contentsOfFile: htmlFile, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<svg"))
        #expect(page.contains("<rect"))
        #expect(page.contains(key))
        // Self-contained: no scripts, stylesheets or images fetched from anywhere.
        #expect(!page.contains("<script"))
        #expect(!page.contains("<link"))
        #expect(!page.contains("src="))
        // The page asked for comes first; every model side by side after it, by the same field.
        let sections = page.components(separatedBy: "data-report=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(sections == ["attribution", "attribution-models"])
        #expect(page.contains("Won deals by campaign, every model side by side"))
        #expect(page.contains("chart compare"))
    }

    /// The model comparison is only on the page: the JSON, CSV and table of an attribution
    /// report keep their shapes.
    @Test func attributionJSONKeepsItsShape() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        for model in ["w-shaped", "markov"] {
            let report = try json(LeadLedgerBinary.run(["report", "attribution", "--model", model, "--store", store, "--format", "json"]))
            #expect(report.objectValue.map { Set($0.keys) } == ["report", "model", "by", "from", "to", "halfLifeDays", "lookbackDays", "order", "rows", "totals"])
            let row = try #require(report["rows"]?.arrayValue?.first?.objectValue)
            #expect(Set(row.keys) == Set(["key", "conversions", "revenue", "share"] + (model == "markov" ? ["removalEffect"] : [])))
            #expect(report["totals"]?.objectValue.map { Set($0.keys) } == ["conversions", "revenue", "share"])
        }
        let csv = try LeadLedgerBinary.run(["report", "attribution", "--model", "linear", "--store", store, "--format", "csv"])
        #expect(csv.stdout.hasPrefix("key,conversions,revenue,share\n"))
    }

    /// `report ... --format html > page.html` gets the page: redirected, HTML goes to stdout
    /// and nothing is said about files.
    @Test func htmlGoesToStdoutWhenItIsRedirected() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let result = try LeadLedgerBinary.run(["report", "attribution", "--model", "linear", "--store", store, "--format", "html"], directory: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(result.stdout.contains("<svg"))
        #expect(result.stdout.hasSuffix("</html>\n"))
        #expect(!result.stderr.contains("wrote"))
        #expect(!result.stderr.contains(".html"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("leadledger-attribution.html")))
    }

    /// On a terminal a page would scroll by as markup: it goes to ./leadledger-<report>.html,
    /// and stderr says so.
    @Test func htmlOnATerminalGoesToTheDefaultFileAndSaysWhere() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let result = try LeadLedgerBinary.runOnTerminal(["report", "funnel", "--store", store, "--format", "html"], directory: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("wrote ./leadledger-funnel.html"))
        #expect(!result.stdout.contains("<"))
        let page = try String(contentsOfFile: dir.file("leadledger-funnel.html"), encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        // Other formats print on the terminal as before.
        let table = try LeadLedgerBinary.runOnTerminal(["report", "funnel", "--store", store], directory: dir.path)
        #expect(table.stdout.contains("leads"))
        #expect(table.stderr.isEmpty)
    }

    @Test func filtersNarrowTheConversions() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let all = try json(LeadLedgerBinary.run(["report", "attribution", "--model", "linear", "--store", store, "--format", "json"]))
        let part = try json(LeadLedgerBinary.run(["report", "attribution", "--model", "linear", "--from", "2026-01-01", "--to", "2026-03-01", "--store", store, "--format", "json"]))
        let total = all["totals"]?["conversions"]?.doubleValue ?? 0
        let some = part["totals"]?["conversions"]?.doubleValue ?? -1
        #expect(some > 0 && some < total)
        #expect(part["from"] == "2026-01-01T00:00:00Z")
    }

    @Test func funnelQualitySlaMonthlyAndPlan() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let funnel = try json(LeadLedgerBinary.run(["report", "funnel", "--by", "source", "--store", store, "--format", "json"]))
        #expect(funnel["totals"]?["leads"] == 300)
        let rows = try #require(funnel["rows"]?.arrayValue)
        #expect(rows.reduce(0.0) { $0 + ($1["leads"]?.doubleValue ?? 0) } == 300)
        for row in rows {
            let leads = row["leads"]?.doubleValue ?? 0, mqls = row["mqls"]?.doubleValue ?? 0
            #expect(mqls <= leads)
            if leads > 0 { #expect(abs((row["leadToMql"]?.doubleValue ?? -1) - mqls / leads) < 1e-12) }
        }
        let cohorts = try json(LeadLedgerBinary.run(["report", "funnel", "--by", "cohort", "--store", store, "--format", "json"]))
        #expect(cohorts["rows"]?.arrayValue?.first?["key"]?.stringValue?.count == 7)  // 2025-09

        let quality = try json(LeadLedgerBinary.run(["report", "quality", "--store", store, "--format", "json"]))
        let purchased = quality["rows"]?.arrayValue?.first { $0["key"] == "purchased-list" }
        #expect(purchased?["bad_data"] != nil)

        let sla = try json(LeadLedgerBinary.run(["report", "sla", "--within", "24", "--store", store, "--format", "json"]))
        #expect(sla["withinHours"] == 24)
        #expect((sla["rows"]?.arrayValue?.count ?? 0) == 6)

        let monthly = try json(LeadLedgerBinary.run(["report", "monthly", "--store", store, "--format", "json"]))
        let months = try #require(monthly["rows"]?.arrayValue)
        #expect(months.map { $0["key"]?.stringValue ?? "" } == months.map { $0["key"]?.stringValue ?? "" }.sorted())
        #expect(monthly["totals"]?["leads"] == 300)

        let plan = try json(LeadLedgerBinary.run(["report", "plan", "--revenue", "1000000", "--store", store, "--format", "json"]))
        let steps = try #require(plan["rows"]?.arrayValue)
        #expect(steps.map { $0["key"] } == ["leads", "MQLs", "SALs", "SQLs", "opportunities", "won deals"])
        let needed = steps.compactMap { $0["needed"]?.doubleValue }
        #expect(needed.count == 6)
        #expect(needed == needed.sorted(by: >))

        let html = try LeadLedgerBinary.run(["report", "monthly", "--store", store, "--format", "html", "--out", dir.file("m.html")])
        #expect(html.status == 0)
        #expect(try String(contentsOfFile: dir.file("m.html"), encoding: .utf8).contains("<polyline"))
        let funnelHTML = try LeadLedgerBinary.run(["report", "funnel", "--store", store, "--format", "html", "--out", dir.file("f.html")])
        #expect(funnelHTML.status == 0)
        #expect(try String(contentsOfFile: dir.file("f.html"), encoding: .utf8).contains("chart funnel"))
    }

    @Test func pathsExportAndAttributionOverAPathsFile() throws {
        let dir = TemporaryDirectory("reports")
        let store = try Self.store(dir)
        let exported = try LeadLedgerBinary.run(["report", "paths", "--store", store])
        #expect(exported.status == 0)
        #expect(exported.stdout.hasPrefix("path;total_conversions;total_conversion_value;total_null\n"))
        let file = try dir.write("paths.csv", exported.stdout)
        let markov = try json(LeadLedgerBinary.run(["attribution", "--paths", file, "--model", "markov", "--format", "json"]))
        #expect(markov["rows"]?.arrayValue?.allSatisfy { $0["removalEffect"]?.doubleValue != nil } == true)
        let second = try json(LeadLedgerBinary.run(["attribution", "--paths", file, "--model", "markov", "--order", "2", "--format", "json"]))
        #expect(second["order"] == 2)

        let refused = try LeadLedgerBinary.run(["attribution", "--paths", file, "--model", "time-decay"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("needs touch times"))
        let broken = try dir.write("broken.csv", "path;total_conversions;total_conversion_value;total_null\na > b;1;oops;0\n")
        let bad = try LeadLedgerBinary.run(["attribution", "--paths", broken, "--model", "linear"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("line 2"))
    }
    /// No report may crash on any stored value. The largest amounts ingest accepts (10^15),
    /// on enough won deals that their total passes what an Int64 holds (9.2 * 10^18), and the
    /// smallest (0 and 5e-324), through every report and model in every format.
    @Test func everyReportAndModelInEveryFormatOnTheLargestAcceptedAmounts() throws {
        let dir = TemporaryDirectory("reports")
        var lines: [String] = []
        let deals = 9_500
        for index in 0..<deals {
            let lead = "L-\(index)"
            let day = String(format: "2026-%02d-%02d", 1 + index % 12, 1 + index % 28)
            func at(_ hour: Int) -> String { "\(day)T\(String(format: "%02d", hour)):00:00Z" }
            let amount: JSONValue = index == 0 ? 0 : index == 1 ? .number(5e-324) : .number(Vocabulary.maximumAmount)
            let events = [
                Events.captured(lead, at: at(1), source: index % 2 == 0 ? "webinar" : "ads",
                                extra: ["employees": .number(Vocabulary.maximumEmployees), "annualRevenue": .number(Vocabulary.maximumAmount)]),
                Events.touch(lead, id: "\(lead)-t1", at: at(2), channel: index % 3 == 0 ? "email" : "webinar", campaign: "c\(index % 5)"),
                Events.touch(lead, id: "\(lead)-t2", .touchAdClick, at: at(3), channel: "ads"),
                Events.event(.leadQualified, lead, id: "\(lead)-q", at: at(4), ["by": "manual", "score": .number(-1e300)]),
                Events.event(.leadHandedOff, lead, id: "\(lead)-h", at: at(5), ["to": .string("ae-\(index % 4)")]),
                Events.event(.salesAccepted, lead, id: "\(lead)-a", at: at(6)),
                Events.event(.opportunityOpened, lead, id: "\(lead)-o", at: at(7), ["opportunity": .string("O-\(index)"), "amount": amount]),
                Events.event(.dealClosed, lead, id: "\(lead)-w", at: at(8), ["opportunity": .string("O-\(index)"), "outcome": "won", "amount": amount]),
            ]
            lines += events.map(Events.line)
        }
        let input = try dir.write("extreme.jsonl", lines.joined(separator: "\n") + "\n")
        let store = dir.file("store")
        let ingest = try LeadLedgerBinary.run(["ingest", input, "--store", store, "--format", "json"])
        #expect(ingest.status == 0, "\(ingest.stderr.prefix(500))")
        #expect(try json(ingest)["appended"] == .number(Double(lines.count)))

        // (Every model: AttributionModel.allCases; those a paths file allows: worksOnPaths.)
        let models = ["first-touch", "last-touch", "lead-creation", "linear", "u-shaped", "w-shaped", "full-path", "position-based", "time-decay", "markov"]
        let pathModels = ["first-touch", "last-touch", "linear", "position-based", "markov"]
        var runs: [[String]] = []
        for model in models {
            runs.append(["report", "attribution", "--model", model, "--by", "campaign", "--half-life", "36500", "--lookback", "36500"])
        }
        runs.append(["report", "attribution", "--model", "markov", "--order", "4"])
        runs += [["report", "funnel", "--by", "cohort"], ["report", "quality"], ["report", "sla", "--within", "0.001"], ["report", "monthly"],
                 ["report", "plan", "--revenue", "1e15"], ["report", "plan", "--revenue", "0.01"]]
        runs = runs.map { $0 + ["--store", store] }
        let exported = try LeadLedgerBinary.run(["report", "paths", "--store", store])
        #expect(exported.status == 0, "\(exported.stderr)")
        let paths = try dir.write("paths.csv", exported.stdout)
        for model in pathModels {
            runs.append(["attribution", "--paths", paths, "--model", model])
        }
        for arguments in runs {
            for format in ["table", "csv", "json", "html"] {
                let result = try LeadLedgerBinary.run(arguments + ["--format", format])
                #expect(result.status == 0, "\(arguments.joined(separator: " ")) --format \(format): \(result.stderr.suffix(400))")
                #expect(!result.stdout.isEmpty)
                if format == "json" {
                    #expect((try? JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))) != nil, "\(arguments)")
                }
            }
        }
        // The totals are right, not merely printed: 9,498 deals of 10^15 each.
        let monthly = try json(LeadLedgerBinary.run(["report", "monthly", "--store", store, "--format", "json"]))
        let bookings = try #require(monthly["totals"]?["bookings"]?.doubleValue)
        #expect(abs(bookings - Double(deals - 2) * 1e15) / bookings < 1e-12)
        let table = try LeadLedgerBinary.run(["report", "monthly", "--store", store])
        #expect(table.stdout.contains("9.498e+18"), "\(table.stdout)")
        // A lead's profile shows the largest head count and revenue as stored.
        let lead = try json(LeadLedgerBinary.run(["lead", "show", "L-5", "--store", store, "--format", "json"]))
        #expect(lead["profile"]?["annualRevenue"] == .number(1e15))
        #expect(try LeadLedgerBinary.run(["lead", "history", "L-1", "--store", store]).status == 0)
    }
}
