import ArgumentParser
import LeadDomain
import LeadEngine
import LedgerJSON

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Explain scores.",
        subcommands: [ScoreExplain.self])
}

struct ScoreExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Every rule that contributes to a lead's score, with its points, time and log position.",
        discussion: "Behavior points are decayed to the reference time (now, or --as-of); the hits sum to the score.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The lead's id.") var id: String
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: ArgumentHelp("Score at this time (default: now).", valueName: "TIME"))
    var asOf: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let time = try asOf.map { try parseTime($0, option: "--as-of") }
        let store = try storeOptions.openForReading()
        defer { store.close() }
        guard try store.lead(id) != nil else { throw CLIError("unknown lead \(id)") }
        guard let rules = try store.currentRules() else {
            throw CLIError("no rules are published; publish some with: leadledger rules publish FILE")
        }
        // A merged-away lead's score is its survivor's (as `lead show` shows the survivor).
        let lead = time == nil ? try store.currentLead(id) : id
        guard let breakdown = try store.score(of: lead, asOf: time, explain: true) else {
            throw CLIError("lead \(id) did not exist yet at \(time?.rfc3339 ?? "that time")")
        }
        switch output.format {
        case .json, .html:
            print(JSONWriter.render(LeadJSON.score(lead: lead, breakdown, rulesVersion: rules.version, asOf: time ?? .now, resolvedFrom: id)))
        case .csv, .table:
            var table = TextTable(columns: ["rule", "points", "at", "position"])
            table.numeric = [1, 3]
            table.rows = breakdown.hits.map { [$0.rule, format($0.points), $0.at?.rfc3339 ?? "", $0.position.map(String.init) ?? ""] }
            if output.format == .csv {
                print(table.renderCSV())
            } else {
                if lead != id { print("lead \(id) was merged into lead \(lead); showing lead \(lead)") }
                print("lead \(lead): score \(format(breakdown.score)) = fit \(format(breakdown.fit)) + engagement \(format(breakdown.engagement)) under rules \(rules.version)")
                print(table.renderTable())
            }
        }
    }

    func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return JSONWriter.render(.number(rounded))
    }
}
