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
            the lifecycle, about 20 per lead. The same --seed gives the same bytes.
            """)

    @Option(parsing: .unconditional, help: "How many leads (at most 10,000,000).") var leads: Int
    @Option(parsing: .unconditional, help: "The random seed (0 to 2^64 - 1).") var seed: UInt64 = 42
    @Option(help: ArgumentHelp("Write here instead of stdout.", valueName: "FILE")) var out: String?

    func validate() throws {
        try OptionCheck.whole(leads, "--leads", in: OptionCheck.leads)
    }

    func run() throws {
        let progress = Progress()
        let target = out ?? "/dev/stdout"
        let count = try Generator(leads: leads, seed: seed).write(to: target) { progress.update("generating: \($0.grouped) events") }
        progress.finish()
        if out != nil { printToStderr("wrote \(count.grouped) events for \(leads.grouped) leads to \(target)") }
    }
}
