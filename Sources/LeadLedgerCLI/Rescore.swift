import ArgumentParser
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON

struct Rescore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay the whole history under other scoring rules and show what would differ.",
        discussion: """
            Recomputes every lead's score and qualification moment from the log as if the \
            rules had been in force from the start, without touching anything, and lists the \
            leads that would qualify that did not, that qualified and would not, and whose \
            qualification date moves, with a score distribution. --apply then publishes the \
            rules and qualifies, from now on, the leads that now reach the threshold; past \
            events are never rewritten.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The rules document to replay under (.yaml, .yml or .json).") var rules: String
    @Flag(help: "Publish the rules and qualify now the leads that reach the threshold.") var apply = false
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: ArgumentHelp("Evaluate the score distribution at this time (default: the latest event's time, so that the same log gives the same report).", valueName: "TIME"))
    var asOf: String?
    @Option(help: "Who applies (recorded as the actor of the events --apply appends).") var actor: String = "leadledger-cli"
    @OptionGroup var output: FormatOptions

    func run() throws {
        let time = try asOf.map { try parseTime($0, option: "--as-of") }
        let document = try RulesDocument.load(path: self.rules)
        let store = try apply ? storeOptions.openForWriting() : storeOptions.openForReading()
        defer { store.close() }
        let report = try store.rescore(with: document, asOf: time)
        print(Self.render(report, format: output.format))
        if apply {
            let qualified = try store.apply(document, actor: actor, at: .now)
            let message = "applied rules \(document.version): published, every lead rescored, \(qualified.count) lead(s) qualified now"
            if output.format == .table { print("\n" + message) } else { printToStderr(message) }
        }
    }

    static func render(_ report: RescoreReport, format: OutputFormat) -> String {
        switch format {
        case .json, .html:
            return JSONWriter.render(LeadJSON.rescore(report))
        case .csv:
            var table = TextTable(columns: ["lead", "change", "from", "to"])
            table.rows += report.newlyQualified.map { [$0, "newly_qualified", "", ""] }
            table.rows += report.noLongerQualified.map { [$0, "no_longer_qualified", "", ""] }
            table.rows += report.moved.map { [$0.lead, "moved", $0.from.rfc3339, $0.to.rfc3339] }
            return table.renderCSV()
        case .table:
            var lines = [
                "rescore under \(report.rulesVersion) (in force now: \(report.baseVersion ?? "no rules")), \(report.leads.grouped) leads replayed",
                "MQLs: \(report.qualifiedNow.grouped) in the history, \(report.qualifiedProposed.grouped) under \(report.rulesVersion)",
                "would newly qualify:      \(report.newlyQualified.count.grouped)\(sample(report.newlyQualified))",
                "would no longer qualify:  \(report.noLongerQualified.count.grouped)\(sample(report.noLongerQualified))",
                "qualification date moves: \(report.moved.count.grouped)",
            ]
            if !report.moved.isEmpty {
                var moves = TextTable(columns: ["lead", "qualified", "would qualify", "days"])
                moves.numeric = [3]
                for move in report.moved.prefix(10) {
                    moves.rows.append([move.lead, move.from.rfc3339, move.to.rfc3339, String(format: "%+.1f", move.from.days(until: move.to))])
                }
                lines.append(moves.renderTable() + (report.moved.count > 10 ? "\n… \(report.moved.count - 10) more (--format csv lists all)" : ""))
            }
            var buckets = TextTable(columns: ["score at \(report.asOf.date)", "leads now", "under \(report.rulesVersion)"])
            buckets.numeric = [1, 2]
            buckets.rows = report.distribution.map { [$0.label, $0.current.map { $0.grouped } ?? "-", $0.proposed.grouped] }
            lines.append("\n" + buckets.renderTable())
            return lines.joined(separator: "\n")
        }
    }

    static func sample(_ leads: [String]) -> String {
        leads.isEmpty ? "" : "  (" + leads.prefix(5).joined(separator: ", ") + (leads.count > 5 ? ", …" : "") + ")"
    }
}
