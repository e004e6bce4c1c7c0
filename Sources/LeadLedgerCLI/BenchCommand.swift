import ArgumentParser
import Bench
import LeadEngine
import Foundation
import LedgerJSON

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure ingest, replay, rescore, attribution and lead reads beside a raw-LMDB baseline.",
        discussion: """
            Generates --events events, ingests them into a temporary store (durable commits), \
            rebuilds every projection from position 1, rescores under changed rules, runs every \
            attribution model, reads random leads, and reports peak memory. The baseline writes \
            the same stored records with the same key layout straight through LMDB's C API, as \
            many per transaction as the engine committed on average: once through cursors (as \
            the engine writes; the ratio's target is checked against this one) and once with \
            one mdb_put per record. The ingest and the cursor baseline are measured --runs \
            times, one after the other, each into a fresh store; the figures are the medians, \
            and the ratio is the median of the runs' ratios (a shared machine's speed drifts). \
            Build with -c release: `swift run -c release leadledger bench`.
            """)

    @Option(parsing: .unconditional, help: "How many events (100 to 100,000,000).") var events: Int = 1_000_000
    @Option(help: ArgumentHelp("Work directory (removed afterwards unless --keep).", valueName: "DIR"))
    var directory: String?
    @Flag(help: "Keep the work directory.") var keep = false
    @Option(parsing: .unconditional, help: "How many times to measure the ingest and the cursor baseline (1 to 20).") var runs: Int = 3
    @Option(help: "Output format: table or json.") var format: OutputFormat = .table
    @Flag(help: "Measure stores that encrypt personal fields (with a random master key).") var encrypt = false

    func validate() throws {
        try OptionCheck.whole(events, "--events", in: OptionCheck.benchEvents)
        try OptionCheck.whole(runs, "--runs", in: 1...20)
        guard format == .table || format == .json else { throw ValidationError("--format must be table or json") }
    }

    func run() throws {
        #if DEBUG
        printToStderr("warning: this is a debug build; measure with `swift run -c release leadledger bench`")
        #endif
        var options = BenchRun.Options(directory: directory ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("leadledger-bench-\(getpid())"))
        options.events = events
        options.keep = keep
        options.runs = runs
        if encrypt { options.masterKey = MasterKey.random() }
        let progress = Progress()
        let result = try BenchRun(options: options) { progress.update($0) }.run()
        progress.finish()
        print(format == .json ? JSONWriter.render(json(result)) : table(result))
    }

    func json(_ r: BenchRun.Result) -> JSONValue {
        var models = JSONObject()
        for (model, seconds) in r.attributionSeconds { models[model] = .number(seconds) }
        return [
            "events": .integer(r.events), "ingestEventsPerSec": .number(r.ingestEventsPerSec.rounded()),
            "baselineIngestEventsPerSec": .number(r.baselineIngestEventsPerSec.rounded()),
            "replayEventsPerSec": .number(r.replayEventsPerSec.rounded()),
            "baselineScanEventsPerSec": .number(r.baselineScanEventsPerSec.rounded()),
            "rescoreSeconds": .number(r.rescoreSeconds), "attributionSeconds": .number(r.slowestAttributionSeconds),
            "leadReadMicrosP50": .number(BenchRun.Result.percentile(r.leadReadMicros, 0.5)),
            "leadReadMicrosP99": .number(BenchRun.Result.percentile(r.leadReadMicros, 0.99)),
            "peakRSSMiB": .number((r.peakRSSMiB * 10).rounded() / 10),
            "processPeakRSSMiB": .number((r.processPeakRSSMiB * 10).rounded() / 10),
            "leads": .integer(r.leads), "batchSize": .integer(r.batchSize),
            "ingestCommits": .integer(r.ingestCommits), "baselineBatchSize": .integer(r.baselineBatchSize),
            "ingestRatio": .number(r.ingestRatio),
            "ingestRuns": .array(r.runs.map { run in
                [
                    "ingestEventsPerSec": .number((Double(r.events) / run.ingestSeconds).rounded()),
                    "baselineIngestEventsPerSec": .number((Double(r.events) / run.baselineSeconds).rounded()),
                    "ratio": .number(run.ratio), "commits": .integer(run.commits),
                ]
            }),
            "baselinePutIngestEventsPerSec": .number(r.baselinePutIngestEventsPerSec.rounded()),
            "ingestRatioToPutBaseline": .number(r.ingestRatioToPutBaseline),
            "replayToScanRatio": .number(r.replayEventsPerSec / r.baselineScanEventsPerSec),
            "attributionSecondsByModel": .object(models),
            "rssMiBAtStageStart": .object(JSONObject(r.stageRSS.map { (key: $0.stage, value: .number(($0.mib * 10).rounded() / 10)) })),
            "historyReadMicrosP50": .number(BenchRun.Result.percentile(r.historyReadMicros, 0.5)),
            "historyReadMicrosP99": .number(BenchRun.Result.percentile(r.historyReadMicros, 0.99)),
        ]
    }

    func table(_ r: BenchRun.Result) -> String {
        // (A stage measured as taking no time has no rate an integer holds.)
        func rate(_ x: Double) -> String { Int(exactly: x.rounded()).map { $0.grouped + "/s" } ?? "-" }
        func check(_ ok: Bool) -> String { ok ? "ok" : "MISSES" }
        let runs = r.runs.map { String(format: "%.2f", $0.ratio) }.joined(separator: ", ")
        var lines = [
            "\(r.events.grouped) events, \(r.leads.grouped) leads; ingest: \(r.batchSize.grouped) events per append, \(r.ingestCommits.grouped) commits; baseline: \(r.baselineBatchSize.grouped) events per commit (the engine's mean)",
            "ingest and cursor baseline: medians of \(r.runs.count) run\(r.runs.count == 1 ? "" : "s") (ratios \(runs))",
            "",
            "measure                  engine        raw LMDB      ratio   target",
            "ingest (durable)         \(rate(r.ingestEventsPerSec).padded(12))  \(rate(r.baselineIngestEventsPerSec).padded(12))  \(String(format: "%5.2f", r.ingestRatio))   ≥ 250,000/s and ≥ 0.6: \(check(r.ingestEventsPerSec >= 250_000 && r.ingestRatio >= 0.6))",
            "  … baseline by mdb_put                 \(rate(r.baselinePutIngestEventsPerSec).padded(12))  \(String(format: "%5.2f", r.ingestRatioToPutBaseline))   (one put per record, the first run only; the baseline above writes through cursors, as the engine does)",
            "replay (all projections) \(rate(r.replayEventsPerSec).padded(12))  \(rate(r.baselineScanEventsPerSec).padded(12))  \(String(format: "%5.2f", r.replayEventsPerSec / r.baselineScanEventsPerSec))   ≥ 2,000,000/s: \(check(r.replayEventsPerSec >= 2_000_000))",
            "rescore                  \(String(format: "%.3f s", r.rescoreSeconds).padded(12))                         ≤ 1 s per 1M events: \(check(r.rescoreSeconds <= Double(r.events) / 1_000_000))",
            "lead read p50 / p99      \(String(format: "%.1f / %.1f µs", BenchRun.Result.percentile(r.leadReadMicros, 0.5), BenchRun.Result.percentile(r.leadReadMicros, 0.99)))                ≤ 50 µs median: \(check(BenchRun.Result.percentile(r.leadReadMicros, 0.5) <= 50))",
            "history read p50 / p99   \(String(format: "%.1f / %.1f µs", BenchRun.Result.percentile(r.historyReadMicros, 0.5), BenchRun.Result.percentile(r.historyReadMicros, 0.99)))",
            "peak RSS                 \(String(format: "%.1f MiB", r.peakRSSMiB)) (the engine; \(String(format: "%.1f", r.processPeakRSSMiB)) MiB with the baseline's own map)",
            "",
            "attribution model        seconds",
        ]
        for (model, seconds) in r.attributionSeconds {
            lines.append("\(model.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%.3f", seconds))   \(check(seconds <= Double(r.events) / 1_000_000))")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
