import ArgumentParser
import LeadDomain
import LeadEngine
import LedgerJSON

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Show an account: its leads, stages, engagement, score and opportunities.",
        subcommands: [AccountShow.self])
}

struct AccountShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "An account's leads with their stages and scores, and what they add up to.",
        discussion: """
            A lead belongs to an account by a tracking group call's id, an `account` (or \
            `accountId`) field on lead.captured or lead.enriched, or else its e-mail or company \
            domain (free-mail domains never make an account): see docs/lead-data.md. Engaged leads \
            have a touch in the 90 days up to now, or up to --as-of.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The account's id (a group id, an account field's value, or a domain such as acme.com).") var id: String
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: ArgumentHelp("The end of the engagement window (RFC 3339 or a date).", valueName: "TIME"))
    var asOf: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if id.isEmpty { throw ValidationError("the account id is empty") }
        if let asOf { _ = try parseTime(asOf, option: "--as-of") }
    }

    func run() throws {
        let time = try asOf.map { try parseTime($0, option: "--as-of") }
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let summary: AccountSummary
        do {
            summary = try store.account(id, asOf: time)
        } catch let error as AccountError {
            throw CLIError(error.description)
        }
        print(Self.render(summary, format: output.format))
    }

    static func render(_ summary: AccountSummary, format: OutputFormat) -> String {
        func number(_ value: Double) -> String { JSONWriter.render(.number((value * 100).rounded() / 100)) }
        switch format {
        case .json, .html:
            return JSONWriter.render(LeadJSON.account(summary))
        case .csv:
            var table = TextTable(columns: ["account", "lead", "stage", "score", "lastTouchAt", "engaged", "assignedBy"])
            table.rows = summary.leads.map {
                [summary.account, $0.lead, $0.stage.rawValue, $0.score.map(number) ?? "", $0.lastTouchAt?.rfc3339 ?? "",
                 $0.engaged ? "true" : "false", $0.explicit ? "event" : "domain"]
            }
            return table.renderCSV()
        case .table:
            let opportunities = summary.opportunities
            var lines = [
                "account   \(summary.account)",
                "leads     \(summary.leads.count), most advanced stage \(summary.mostAdvancedStage.rawValue)",
                "engaged   \(summary.engagedLeads) with a touch in the \(AccountSummary.engagementDays) days up to \(summary.asOf.rfc3339)",
            ]
            if let score = summary.score {
                var line = "score     \(number(score.total)) = min(\(number(score.cap)), leads \(number(score.leadScores))) + fit \(number(score.fit))"
                line += " + account rules \(number(score.rules))"
                if !score.hits.isEmpty { line += " (" + score.hits.map { "\($0.rule) \(number($0.points))" }.joined(separator: ", ") + ")" }
                lines.append(line)
            } else {
                lines.append("score     - (no rules published)")
            }
            func count(_ n: Int) -> String { n == 1 ? "1 opportunity" : "\(n) opportunities" }
            lines.append("open      \(count(opportunities.open)), \(number(opportunities.openAmount))")
            lines.append("won       \(count(opportunities.won)), \(number(opportunities.wonAmount))")
            if !summary.firmographics.isEmpty {
                lines.append("firmographics " + summary.firmographics.members.map { "\($0.key)=\(LeadRendering.display($0.value))" }.joined(separator: ", "))
            }
            var table = TextTable(columns: ["lead", "stage", "score", "last touch", "engaged", "assigned by"])
            table.numeric = [2]
            table.rows = summary.leads.map {
                [$0.lead, $0.stage.rawValue, $0.score.map(number) ?? "-", $0.lastTouchAt?.rfc3339 ?? "-", $0.engaged ? "yes" : "no", $0.explicit ? "event" : "domain"]
            }
            return lines.joined(separator: "\n") + "\n\n" + table.renderTable()
        }
    }
}
