import ArgumentParser
import LeadDomain
import LeadEngine

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who recorded what and when: events filtered by lead, actor, type and time.",
        discussion: """
            Filters combine. --type matches a prefix (sales. for every sales event, \
            lead.handed_off for handoffs); --since and --until apply to the event's time \
            (since inclusive, until exclusive). Example: every handoff in March:
              leadledger audit --type lead.handed_off --since 2026-03-01 --until 2026-04-01
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Only this lead's events.") var lead: String?
    @Option(help: "Only events recorded by this actor.") var actor: String?
    @Option(help: ArgumentHelp("Only types starting with this.", valueName: "PREFIX")) var type: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("From this time on (RFC 3339 or a date).", valueName: "TIME")) var since: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Before this time (RFC 3339 or a date).", valueName: "TIME")) var until: String?
    @OptionGroup var output: FormatOptions

    func validate() throws {
        if let type, !EventType.allCases.contains(where: { $0.rawValue.hasPrefix(type) }) {
            throw ValidationError("--type \(type) matches no event type; types are \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let filter = AuditFilter(
            lead: lead, actor: actor, typePrefix: type,
            since: try since.map { try parseTime($0, option: "--since") },
            until: try until.map { try parseTime($0, option: "--until") })
        try checkOrder(filter.since, "--since", filter.until, "--until")
        let store = try storeOptions.openForReading()
        defer { store.close() }
        if let lead, try store.lead(lead) == nil {
            throw CLIError("unknown lead \(lead)")
        }
        var rows: [LoggedEvent] = []
        try store.audit(filter) { rows.append($0) }
        print(EventRows.render(rows, format: output.format))
    }
}
