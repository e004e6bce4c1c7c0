import ArgumentParser
import Foundation
import LeadDomain
import LeadEngine

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a realistic, deterministic B2B lead history as JSONL.",
        discussion: """
            Captures with profiles, touches across channels and campaigns, anonymous \
            pre-capture touches that arrive late, MQL handoffs, sales follow-up, accepts and \
            rejections with reasons, opportunities, wins and losses — every event valid under \
            the lifecycle, about 20 per lead. Captures spread over the --days before --end, \
            with seasonality (weekdays, business hours, busy and quiet months, growth); nothing \
            happens after --end, so the latest leads are still mid-story. With --rules the \
            history begins with their rules.published and is told as live scoring under them \
            will see it: the leads the rules qualify are handed off after the engine's \
            lead.qualified, so ingesting it refuses nothing. The same --seed and --end give \
            the same bytes.
            """)

    @Option(parsing: .unconditional, help: "How many leads (at most 10,000,000).") var leads: Int
    @Option(parsing: .unconditional, help: "The random seed (0 to 2^64 - 1).") var seed: UInt64 = 42
    @Option(help: ArgumentHelp(
        "The end of the history (RFC 3339 or a date): no event after it. Default \(Generator.defaultEnd.date), so that a seed always gives the same bytes.",
        valueName: "TIME"))
    var end: String?
    @Option(parsing: .unconditional, help: "The history's length in days, up to --end (1 to 3650).") var days: Double = 365
    @Option(help: ArgumentHelp("Scoring rules (YAML or JSON) live scoring will apply: the history begins with their rules.published.", valueName: "FILE"))
    var rules: String?
    @Option(help: ArgumentHelp("Write here instead of stdout.", valueName: "FILE")) var out: String?

    func validate() throws {
        try OptionCheck.whole(leads, "--leads", in: OptionCheck.leads)
        guard days >= 1 && days <= 3650 else { throw ValidationError("--days must be between 1 and 3650") }
    }

    func run() throws {
        var generator = Generator(leads: leads, seed: seed, end: try end.map { try parseTime($0, option: "--end") } ?? Generator.defaultEnd, days: days)
        generator.rules = try rules.map { try RulesDocument.load(path: $0) }
        let progress = Progress()
        let target = out ?? "/dev/stdout"
        let count = try generator.write(to: target) { progress.update("generating: \($0.grouped) events") }
        progress.finish()
        if out != nil { printToStderr("wrote \(count.grouped) events for \(leads.grouped) leads to \(target)") }
    }
}
