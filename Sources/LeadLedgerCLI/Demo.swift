import ArgumentParser
import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run LeadLedger end to end on a generated data set, in a demo store.",
        discussion: """
            Generates a year of realistic B2B lead history, and the quarter before it, ending \
            now (or at --end), publishes the spec's scoring rules, ingests the history (live \
            scoring qualifies leads as their events arrive and stamps every handoff with the \
            lead's score), shows that a second \
            ingest stores nothing twice, verifies the log, tells one lead's story, lists the \
            handoff audit, shows a rescore diff under a changed rule, prints the W-shaped \
            attribution, writes the closed-loop report as an HTML page, every model side by \
            side first, and shows won revenue by account. Uses ./leadledger-demo unless --store is given; the demo store is \
            recreated each run. The same --seed and --end give the same data and the same page.
            """)

    static let marker = ".leadledger-demo"

    /// The same rules with demo requests worth more and a lower threshold.
    static var changedRules: String {
        ExampleRules.spec
            .replacingOccurrences(of: "version: \"2026-11-a\"", with: "version: \"2026-11-b\"")
            .replacingOccurrences(of: "mql_threshold: 60", with: "mql_threshold: 50")
            .replacingOccurrences(of: "event: touch.demo_requested\n    points: 40", with: "event: touch.demo_requested\n    points: 60")
    }

    @Option(help: ArgumentHelp("The demo store directory (recreated each run).", valueName: "DIR"))
    var store: String = "./leadledger-demo"

    @Option(parsing: .unconditional, help: "How many leads to generate (at most 10,000,000).")
    var leads: Int = 5_000

    @Option(parsing: .unconditional, help: "The generator's seed (0 to 2^64 - 1).")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("The end of the history (RFC 3339 or a date; default now). It begins on the first of the month fifteen months earlier: the year the monthly report shows and the quarter before it.", valueName: "TIME"))
    var end: String?

    func validate() throws {
        try OptionCheck.whole(leads, "--leads", in: OptionCheck.leads)
    }

    /// The history's start: the first of the month fifteen months before `end`'s. The reports
    /// show the year before `end`'s month; the quarter before it fills the pipeline, so that
    /// deals close from the year's first month as they do in a business that is running.
    static func start(ending end: Timestamp) -> Timestamp {
        end.monthStart(monthsBefore: 15)
    }

    func run() throws {
        let end = try end.map { try parseTime($0, option: "--end") } ?? Timestamp.now.truncatedToSeconds
        let start = Self.start(ending: end)
        try prepareStore()
        let dataFile = (store as NSString).appendingPathComponent("demo-events.jsonl")
        let rulesFile = (store as NSString).appendingPathComponent("rules-2026-11-a.yaml")
        try ExampleRules.spec.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let rules = try RulesDocument.load(path: rulesFile)
        let progress = Progress()

        section("1. Generate a year of history and the quarter before it: \(leads.grouped) leads from \(start.date) to \(end.date) (seed \(seed))")
        var generator = Generator(leads: leads, seed: seed, end: end, days: start.days(until: end))
        // Told as live scoring under the rules will see it (the demo publishes them itself).
        generator.rules = rules
        generator.beginsWithRules = false
        let count = try generator.write(to: dataFile) { progress.update("generating: \($0.grouped) events") }
        progress.finish()
        print("wrote \(count.grouped) events to \(dataFile): captures, touches and deals up to \(end.rfc3339), none after it")

        let leadStore = try LeadStore(path: store)
        defer { leadStore.close() }

        section("2. Publish the spec's scoring rules first (leadledger rules publish \(rulesFile))")
        try leadStore.publishRules(rules, actor: "mops-alice", at: start)
        print("published \(rules.version) as of \(start.date): from now on every event is scored as it arrives; a lead reaching \(Int(rules.mqlThreshold)) points becomes an MQL, and every handoff is stamped with the lead's score")

        let ingestor = Ingestor(store: leadStore)
        let rejects = RejectWriter(path: dataFile + ".rejects.jsonl")
        section("3. Ingest the history (leadledger ingest \(dataFile))")
        let started = Date()
        let first = try ingestor.ingest(path: dataFile, rejects: rejects) { state in
            progress.update("ingesting: \(state.lines.grouped) lines, \(state.summary.appended.grouped) appended")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        print("appended \(first.appended.grouped), duplicates \(first.duplicates.grouped), rejected \(first.rejected.grouped) in \(String(format: "%.2f", seconds)) s")
        var byRules = 0, byHand = 0
        try leadStore.audit(AuditFilter(typePrefix: "lead.qualified")) { row in
            if row.event.data["by"] == .string("rules") { byRules += 1 } else { byHand += 1 }
        }
        print("live scoring qualified \(byRules.grouped) leads as MQLs (lead.qualified by rules); marketing qualified \(byHand.grouped) more by hand")

        section("4. Ingest the same file again: every event is already in the log")
        let second = try ingestor.ingest(path: dataFile, rejects: rejects)
        print("appended \(second.appended.grouped), duplicates \(second.duplicates.grouped), rejected \(second.rejected.grouped)")

        section("5. Verify the hash chain and the indexes (leadledger verify)")
        let report = try leadStore.log.verify { position in progress.update("verifying: \(Int(position).grouped)") }
        progress.finish()
        print(report.isValid ? "ok: \(Int(report.records).grouped) events verified" : "FAILED: \(report.failure!)")

        let story = try storyLead(in: leadStore)
        section("6. One lead's story: \(story) (leadledger lead show \(story); lead history \(story))")
        if let state = try leadStore.lead(story) {
            print(LeadRendering.render(state, score: try leadStore.score(of: story)?.score, format: .table))
        }
        print("")
        print(EventRows.render(try leadStore.history(of: story), format: .table))

        section("7. The handoff audit: who handed off what, to whom, when, at what score (leadledger audit --type lead.handed_off)")
        var handoffs: [LoggedEvent] = []
        var stamped = 0, total = 0
        try leadStore.audit(AuditFilter(typePrefix: "lead.handed_off")) { row in
            total += 1
            if row.event.data["rulesVersion"]?.stringValue != nil, row.event.data["score"]?.doubleValue != nil { stamped += 1 }
            if handoffs.count < 10 { handoffs.append(row) }
        }
        print(Self.handoffTable(handoffs))
        print("\(stamped.grouped) of \(total.grouped) handoffs carry the lead's score at the handoff and the rules version in force")

        section("8. What if demo requests were worth 60 and the MQL threshold were 50? (leadledger rescore --rules changed.yaml)")
        let changedFile = (store as NSString).appendingPathComponent("rules-2026-11-b.yaml")
        try Self.changedRules.write(toFile: changedFile, atomically: true, encoding: .utf8)
        let changed = try RulesDocument.load(path: changedFile)
        print(Rescore.render(try leadStore.rescore(with: changed), format: .table))

        section("9. Which channels produced won revenue? W-shaped attribution (leadledger report attribution --model w-shaped)")
        var closedLoop = ClosedLoopReport(now: end)
        try eachJourney(leadStore) { journey, name in closedLoop.add(journey, name: name) }
        let names = try leadStore.dimensionNames()
        let reports = closedLoop.reports { names[$0] ?? "#\($0)" }
        if let wShaped = reports.first(where: { $0.name == "attribution" && $0.model == AttributionModel.wShaped.rawValue }) {
            print(ReportRenderer.table(wShaped))
        }
        if let models = reports.first(where: { $0.name == "attribution-models" }) {
            print("\nThe models disagree (share of the won deals, lowest and highest of the \(AttributionComparison.models.count) models):")
            print(Self.spreadLines(models, top: 4))
        }

        section("10. The closed-loop report as a page with charts")
        let htmlFile = (store as NSString).appendingPathComponent("leadledger-report.html")
        try HTMLRenderer.page(
            reports, title: "LeadLedger closed-loop report",
            subtitle: "Demo data: \(leads.grouped) leads captured from \(start.date) to \(end.date), seed \(seed); scoring rules \(rules.version)")
            .write(toFile: htmlFile, atomically: true, encoding: .utf8)
        print("wrote \(htmlFile) — open it in a browser: every model side by side (by channel and by campaign), W-shaped, Markov, funnel, lead quality, sales SLA, monthly")

        section("11. Accounts: won revenue by account, W-shaped (leadledger report attribution --model w-shaped --by account)")
        var byAccount = try AccountReports.attribution(AttributionSettings(model: .wShaped), walk: journeysWithAccounts(leadStore)) { names[$0] ?? "#\($0)" }
        // (The report lists the accounts with the most revenue first.) The top ten shown.
        let topAccount = byAccount.rows.first { $0.key != AccountLabels.none }?.key
        byAccount.rows = Array(byAccount.rows.prefix(10))
        print(ReportRenderer.table(byAccount))
        if let topAccount {
            print("\nThe account with the most won revenue (leadledger account show \(topAccount)):\n")
            // (As of the history's end, so that the same --seed and --end print the same.)
            print(AccountShow.render(try leadStore.account(topAccount, asOf: end), format: .table))
        }

        print("\nTry: leadledger lead show \(story) --store \(store) --format json")
        print("     leadledger score explain \(story) --store \(store)")
        print("     leadledger rescore --rules \(changedFile) --store \(store) --apply")
        print("     leadledger report sla --within 24 --store \(store)")
        print("     leadledger report attribution --model markov --by campaign --store \(store) --format html")
        print("     leadledger audit --store \(store) --actor ae-carla --type sales.")
        if let topAccount { print("     leadledger account show \(topAccount) --store \(store)") }
        print("\nServe this store and open its dashboard:")
        print("     leadledger keys create --role read --name viewer --store \(store)   # prints the key once")
        print("     leadledger serve --store \(store) --port 8080")
        print("     then open http://127.0.0.1:8080/ (any user name, the key as the password)")
        if !report.isValid || first.rejected > 0 { throw ExitCode.failure }
    }

    /// Handoffs with their stamps in columns of their own (the audit's data column is cut
    /// to fit a terminal).
    static func handoffTable(_ rows: [LoggedEvent]) -> String {
        var table = TextTable(columns: ["position", "at", "lead", "by", "to", "score", "rules"])
        table.numeric = [0, 5]
        for row in rows {
            let data = row.event.data
            table.rows.append([
                String(row.position), row.event.at.rfc3339, row.event.lead ?? "", row.event.actor ?? "",
                data["to"]?.stringValue ?? "", data["score"]?.doubleValue.map { String(format: "%.1f", $0) } ?? "null",
                data["rulesVersion"]?.stringValue ?? "null",
            ])
        }
        return rows.isEmpty ? "(no handoffs)" : table.renderTable()
    }

    /// For the `top` keys of a comparison: the lowest and the highest share, and the models.
    static func spreadLines(_ report: Report, top: Int) -> String {
        report.rows.prefix(top).map { row in
            let shares = report.columns.enumerated().compactMap { index, column -> (String, Double)? in
                guard column.name != "spread", case .number(let share) = row.values[index] else { return nil }
                return (column.title, share)
            }
            guard let low = shares.min(by: { $0.1 < $1.1 }), let high = shares.max(by: { $0.1 < $1.1 }) else { return "  \(row.key)" }
            return "  \(row.key): \(ReportRenderer.format(.number(low.1), .ratio)) (\(low.0)) to \(ReportRenderer.format(.number(high.1), .ratio)) (\(high.0))"
        }.joined(separator: "\n")
    }

    /// The first lead that live scoring qualified and that went all the way to a won deal
    /// (else the first won): the most instructive story.
    private func storyLead(in store: LeadStore) throws -> String {
        var won: [String] = []
        try store.audit(AuditFilter(typePrefix: "deal.closed")) { row in
            if won.count < 200, row.event.data["outcome"] == .string("won"), let lead = row.event.lead { won.append(lead) }
        }
        for lead in won.sorted() where try store.history(of: lead).contains(where: { $0.event.actor == LiveScoring.actor }) {
            return lead
        }
        return won.min() ?? "L-000001"
    }

    private func section(_ title: String) {
        print("\n== \(title)")
    }

    /// The demo only ever deletes a directory it created itself (it leaves a marker file).
    private func prepareStore() throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: store) {
            let contents = (try? manager.contentsOfDirectory(atPath: store)) ?? []
            guard contents.isEmpty || contents.contains(Self.marker) else {
                throw CLIError("\(store) exists and is not a demo store; pass --store with a new directory")
            }
            try manager.removeItem(atPath: store)
        }
        try manager.createDirectory(atPath: store, withIntermediateDirectories: true)
        _ = manager.createFile(atPath: (store as NSString).appendingPathComponent(Self.marker), contents: Data())
    }
}
