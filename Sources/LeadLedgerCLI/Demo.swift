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
            Generates a realistic B2B lead history, ingests it, shows that a second ingest \
            stores nothing twice, verifies the log, publishes the spec's scoring rules, tells one \
            lead's story, lists the handoff audit, shows a rescore diff under a changed rule, \
            prints the W-shaped attribution and writes the closed-loop report as an HTML page. \
            Uses ./leadledger-demo unless --store is given; the demo store is recreated each run.
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

    func validate() throws {
        try OptionCheck.whole(leads, "--leads", in: OptionCheck.leads)
    }

    func run() throws {
        try prepareStore()
        let dataFile = (store as NSString).appendingPathComponent("demo-events.jsonl")
        let progress = Progress()

        section("1. Generate \(leads.grouped) leads (seed \(seed))")
        let count = try Generator(leads: leads, seed: seed).write(to: dataFile) { progress.update("generating: \($0.grouped) events") }
        progress.finish()
        print("wrote \(count.grouped) events to \(dataFile)")

        let leadStore = try LeadStore(path: store)
        defer { leadStore.close() }
        let ingestor = Ingestor(store: leadStore)
        let rejects = RejectWriter(path: dataFile + ".rejects.jsonl")

        section("2. Ingest them")
        let started = Date()
        let first = try ingestor.ingest(path: dataFile, rejects: rejects) { state in
            progress.update("ingesting: \(state.lines.grouped) lines, \(state.summary.appended.grouped) appended")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        print("appended \(first.appended.grouped), duplicates \(first.duplicates.grouped), rejected \(first.rejected.grouped) in \(String(format: "%.2f", seconds)) s")

        section("3. Ingest the same file again: every event is already in the log")
        let second = try ingestor.ingest(path: dataFile, rejects: rejects)
        print("appended \(second.appended.grouped), duplicates \(second.duplicates.grouped), rejected \(second.rejected.grouped)")

        section("4. Verify the hash chain and the indexes")
        let report = try leadStore.log.verify { position in progress.update("verifying: \(Int(position).grouped)") }
        progress.finish()
        print(report.isValid ? "ok: \(Int(report.records).grouped) events verified" : "FAILED: \(report.failure!)")

        section("5. Publish the spec's scoring rules (leadledger rules publish rules.yaml)")
        let rulesFile = (store as NSString).appendingPathComponent("rules-2026-11-a.yaml")
        try ExampleRules.spec.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let rules = try RulesDocument.load(path: rulesFile)
        try leadStore.publishRules(rules, actor: "demo", at: .now)
        print("published \(rules.version) from \(rulesFile): MQL at \(JSONWriter.render(.number(rules.mqlThreshold))) points, every lead rescored")

        let story = try storyLead(in: leadStore)
        section("6. One lead's story: \(story) (leadledger lead show \(story); lead history \(story))")
        if let state = try leadStore.lead(story) {
            print(LeadRendering.render(state, score: try leadStore.score(of: story)?.score, format: .table))
        }
        print("")
        print(EventRows.render(try leadStore.history(of: story), format: .table))

        section("7. The handoff audit: who handed off what, to whom, when (first 10 of leadledger audit --type lead.handed_off)")
        var handoffs: [LoggedEvent] = []
        try leadStore.audit(AuditFilter(typePrefix: "lead.handed_off")) { if handoffs.count < 10 { handoffs.append($0) } }
        print(EventRows.render(handoffs, format: .table))

        section("8. What if demo requests were worth 60 and the MQL threshold were 50? (leadledger rescore --rules changed.yaml)")
        let changedFile = (store as NSString).appendingPathComponent("rules-2026-11-b.yaml")
        try Self.changedRules.write(toFile: changedFile, atomically: true, encoding: .utf8)
        let changed = try RulesDocument.load(path: changedFile)
        print(Rescore.render(try leadStore.rescore(with: changed), format: .table))

        section("9. Which channels produced won revenue? W-shaped attribution (leadledger report attribution --model w-shaped)")
        let names = try leadStore.dimensionNames()
        let name: (UInt32) -> String = { names[$0] ?? "#\($0)" }
        var attribution = AttributionAccumulator(settings: AttributionSettings(model: .wShaped, by: .channel))
        var byCampaign = AttributionAccumulator(settings: AttributionSettings(model: .wShaped, by: .campaign))
        var markov = AttributionAccumulator(settings: AttributionSettings(model: .markov, by: .channel))
        var funnel = FunnelAccumulator(grouping: .source)
        var quality = QualityAccumulator(grouping: .source)
        var monthly = MonthlyAccumulator()
        try leadStore.forEachJourney { _, journey in
            attribution.add(journey)
            byCampaign.add(journey)
            markov.add(journey)
            funnel.add(journey, name: name)
            quality.add(journey, name: name)
            monthly.add(journey)
        }
        let wShaped = attribution.report(name: name)
        print(ReportRenderer.table(wShaped))

        section("10. The closed-loop report as a page with charts")
        let reports = [wShaped, byCampaign.report(name: name), markov.report(name: name), funnel.report(), quality.report(), monthly.report()]
        let htmlFile = (store as NSString).appendingPathComponent("leadledger-report.html")
        try HTMLRenderer.page(reports, title: "LeadLedger closed-loop report", subtitle: "Demo data: \(leads.grouped) leads, seed \(seed)")
            .write(toFile: htmlFile, atomically: true, encoding: .utf8)
        print("wrote \(htmlFile) — open it in a browser (attribution, Markov, funnel, lead quality, monthly)")

        print("\nTry: leadledger lead show \(story) --store \(store) --format json")
        print("     leadledger score explain \(story) --store \(store)")
        print("     leadledger rescore --rules \(changedFile) --store \(store) --apply")
        print("     leadledger report funnel --by cohort --store \(store)")
        print("     leadledger report attribution --model markov --by campaign --store \(store) --format html")
        print("     leadledger audit --store \(store) --actor ae-carla --type sales.")
        if !report.isValid { throw ExitCode.failure }
    }

    /// The first lead that went all the way to a won deal: the most instructive story.
    private func storyLead(in store: LeadStore) throws -> String {
        var found: String?
        try store.audit(AuditFilter(typePrefix: "deal.closed")) { row in
            if found == nil, row.event.data["outcome"] == .string("won") { found = row.event.lead }
        }
        return found ?? "L-000001"
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
