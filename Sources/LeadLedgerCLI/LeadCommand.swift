import ArgumentParser
import EventLog
import LeadDomain
import LeadEngine
import LedgerJSON

struct LeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead",
        abstract: "Show one lead: its state (now or as of a time) and its history; merge duplicates.",
        subcommands: [LeadShow.self, LeadHistory.self, LeadMerge.self, LeadErase.self])
}

struct LeadShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A lead's stage, owner, profile and stage history.",
        discussion: """
            With --as-of, the state as it was at that time, rebuilt from the log (events with an `at` up to that time).             The id of a lead merged into another shows the lead it was merged into.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The lead's id.") var id: String
    @Option(name: .customLong("as-of"), parsing: .unconditional, help: ArgumentHelp("A past time (RFC 3339 or a date).", valueName: "TIME"))
    var asOf: String?
    @OptionGroup var output: FormatOptions

    func run() throws {
        let time = try asOf.map { try parseTime($0, option: "--as-of") }
        let store = try storeOptions.openForReading()
        defer { store.close() }
        if time == nil, let (found, chain) = try store.resolvedLead(id), !chain.isEmpty {
            let score = try store.score(of: found.lead, asOf: nil)?.score
            let (state, erasure) = (store.shown(found), store.erasure(of: found.lead))
            if output.format == .table {
                let steps = chain.map { "\($0.lead) → \($0.into)" }.joined(separator: ", ")
                print("lead \(id) was merged into lead \(state.lead) (\(steps)); showing lead \(state.lead)\n")
                print(LeadRendering.render(state, score: score, format: output.format, erasure: erasure))
            } else if output.format == .csv {
                print(LeadRendering.render(state, score: score, format: output.format))
            } else {
                print(JSONWriter.render(LeadJSON.lead(state, score: score, resolvedFrom: id, chain: chain, erasure: erasure)))
            }
            return
        }
        let found = try time.map { try store.lead(id, asOf: $0) } ?? store.lead(id)
        guard let state = found else {
            if let time, try store.lead(id) != nil {
                throw CLIError("lead \(id) did not exist yet at \(time.rfc3339)")
            }
            throw CLIError("unknown lead \(id)")
        }
        let score = try store.score(of: id, asOf: time)?.score
        print(LeadRendering.render(store.shown(state), score: score, format: output.format, erasure: store.erasure(of: id)))
    }
}

struct LeadHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Every event of a lead, in log order, with positions and who recorded it.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The lead's id.") var id: String
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let rows = try store.history(of: id)
        guard !rows.isEmpty else { throw CLIError("unknown lead \(id)") }
        print(EventRows.render(rows, format: output.format))
    }
}

enum LeadRendering {
    static func render(_ state: LeadState, score: Double?, format: OutputFormat, erasure: LeadKeyStore.Erasure? = nil) -> String {
        switch format {
        case .json, .html:
            return JSONWriter.render(LeadJSON.lead(state, score: score, erasure: erasure))
        case .csv:
            var table = TextTable(columns: ["lead", "stage", "owner", "capturedAt", "lastActivityAt", "touches", "events", "stageAt", "stageType", "stageActor", "stagePosition"])
            for change in state.stages {
                table.rows.append([state.lead, change.stage.rawValue, state.owner ?? "", state.capturedAt.rfc3339, state.lastActivityAt.rfc3339,
                                   String(state.touches), String(state.events), change.at.rfc3339, change.type.rawValue, change.actor ?? "", String(change.position)])
            }
            return table.renderCSV()
        case .table:
            var lines = [
                "lead      \(state.lead)",
                "stage     \(state.stage.rawValue)",
                "owner     \(state.owner ?? "-")",
                "score     \(score.map { JSONWriter.render(.number(($0 * 100).rounded() / 100)) + " (rules \(state.rulesVersion ?? "?"))" } ?? "- (no rules published)")",
                "captured  \(state.capturedAt.rfc3339)",
                "active    \(state.lastActivityAt.rfc3339) (last activity)",
                "touches   \(state.touches) of \(state.events) events",
            ]
            if let opportunity = state.opportunity { lines.append("opportunity \(opportunity)") }
            if let erasure { lines.append("erased    \(erasure.at.rfc3339) (\(erasure.reason)): personal fields read as \(SealedValue.erasedText)") }
            if !state.profile.isEmpty {
                lines.append("profile   " + state.profile.members.map { "\($0.key)=\(display($0.value))" }.joined(separator: ", "))
            }
            var stages = TextTable(columns: ["stage", "at", "by event", "actor", "position"])
            stages.numeric = [4]
            stages.rows = state.stages.map { [$0.stage.rawValue, $0.at.rfc3339, $0.type.rawValue, $0.actor ?? "-", String($0.position)] }
            return lines.joined(separator: "\n") + "\n\n" + stages.renderTable()
        }
    }

    static func display(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return JSONWriter.render(value)
    }
}
