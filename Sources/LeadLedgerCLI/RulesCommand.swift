import ArgumentParser
import EventLog
import LeadDomain
import LeadEngine
import LedgerJSON

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Publish scoring rules, or show the rules in force.",
        subcommands: [RulesPublish.self, RulesShow.self])
}

struct RulesPublish: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a scoring-rules document (YAML or JSON): from now on every event is scored under it.",
        discussion: """
            Appends rules.published (history is never rewritten) and rescores every lead under \
            the new rules. Leads qualify as their next events arrive; to qualify now the leads \
            that already reach the threshold, and to see the difference first, use rescore.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The rules document (.yaml, .yml or .json).") var file: String
    @Option(help: "Who publishes (recorded as the event's actor).") var actor: String = "leadledger-cli"

    func run() throws {
        let rules = try RulesDocument.load(path: file)
        let store = try storeOptions.openForWriting()
        defer { store.close() }
        if let warning = store.warningForRulesOnPersonalFields(rules) { printToStderr("warning: " + warning) }
        switch try store.publishRules(rules, actor: actor, at: .now) {
        case .appended(let position):
            print("published rules \(rules.version) at position \(position): threshold \(JSONWriter.render(.number(rules.mqlThreshold))), \(rules.fit.count) fit and \(rules.behavior.count) behavior rules")
        case .duplicate(let position):
            guard try store.isPublished(rules, at: position) else {
                throw CLIError("rules version \(rules.version) was already published with another document; give the changed document a new version")
            }
            // (An interrupted publish is completed by publishRules: every lead is rescored.)
            print("rules \(rules.version) were already published at position \(position), with this document; every lead is scored under them")
        case .rejected(let reason):
            throw CLIError(reason)
        case .conflict:
            throw CLIError("the rules could not be published (conflict)")
        }
    }
}

struct RulesShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The rules in force: version and document.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try storeOptions.openForReading()
        defer { store.close() }
        guard let rules = try store.currentRules() else {
            throw CLIError("no rules are published in \(storeOptions.path); publish some with: leadledger rules publish FILE")
        }
        switch output.format {
        case .json, .html:
            print(JSONWriter.render(["version": .string(rules.version), "document": .object(rules.document)]))
        case .csv:
            var table = TextTable(columns: ["rule", "kind", "points", "condition"])
            for rule in rules.fit { table.rows.append([rule.label, "fit", JSONWriter.render(.number(rule.points)), "\(rule.field) \(describe(rule.condition))"]) }
            for rule in rules.behavior { table.rows.append([rule.label, "behavior", JSONWriter.render(.number(rule.points)), describe(rule)]) }
            print(table.renderCSV())
        case .table:
            print("rules \(rules.version): MQL at \(JSONWriter.render(.number(rules.mqlThreshold))) points" + (rules.halfLifeDays.map { ", engagement halves every \(JSONWriter.render(.number($0))) days" } ?? ", no decay"))
            var table = TextTable(columns: ["rule", "points", "when"])
            table.numeric = [1]
            for rule in rules.fit { table.rows.append([rule.label, JSONWriter.render(.number(rule.points)), "\(rule.field) \(describe(rule.condition))"]) }
            for rule in rules.behavior { table.rows.append([rule.label, JSONWriter.render(.number(rule.points)), describe(rule)]) }
            print(table.renderTable())
        }
    }

    func describe(_ rule: BehaviorRule) -> String {
        var text = rule.event.rawValue
        for clause in rule.conditions { text += " where \(clause.field) \(describe(clause.condition))" }
        if let cap = rule.cap { text += " (at most \(cap.count) per \(JSONWriter.render(.number(cap.perDays))) days)" }
        return text
    }

    func describe(_ condition: Condition) -> String {
        var parts: [String] = []
        if let pattern = condition.matches { parts.append("matches \(pattern)") }
        if let text = condition.contains { parts.append("contains \"\(text)\"") }
        if let n = condition.gte { parts.append("≥ \(JSONWriter.render(.number(n)))") }
        if let n = condition.gt { parts.append("> \(JSONWriter.render(.number(n)))") }
        if let n = condition.lte { parts.append("≤ \(JSONWriter.render(.number(n)))") }
        if let n = condition.lt { parts.append("< \(JSONWriter.render(.number(n)))") }
        if let options = condition.oneOf { parts.append("in \(JSONWriter.render(.array(options)))") }
        if let value = condition.equals { parts.append("= \(JSONWriter.render(value))") }
        if let exists = condition.exists { parts.append(exists ? "is present" : "is absent") }
        return parts.joined(separator: " and ")
    }
}
