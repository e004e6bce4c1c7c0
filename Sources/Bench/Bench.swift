import EventLog
import Foundation
import LedgerSystem
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports

/// `leadledger bench`: measures, in one run, bulk ingest, full replay, rescore, every
/// attribution model, single-lead reads and peak memory — and the raw-LMDB baseline with the
/// same records, key layout and batch size (append and a full cursor scan).
public struct BenchRun {
    public struct Options: Sendable {
        public var events = 1_000_000
        public var directory: String
        public var seed: UInt64 = 7
        public var keep = false
        /// How many times the ingest and the cursor baseline are measured, one after the
        /// other (each into a fresh store): their ratio is taken per run, and the medians
        /// are reported, so that a VM whose speed drifts compares like with like.
        public var runs = 3
        /// Stores that encrypt personal fields (with this master key): the cost of sealing.
        public var masterKey: MasterKey?
        public init(directory: String) { self.directory = directory }

        /// The options of the stores measured.
        var storeOptions: LeadStore.Options {
            var options = LeadStore.Options()
            options.masterKey = masterKey
            return options
        }
    }

    /// One ingest and the cursor baseline measured right after it, from its records.
    public struct Run: Sendable {
        public var ingestSeconds: Double
        public var baselineSeconds: Double
        public var commits: Int
        public var ratio: Double { baselineSeconds / ingestSeconds }
    }

    public struct Result: Sendable {
        public var events = 0
        /// Every run; the figures below are their medians (the ratio: of the runs' ratios).
        public var runs: [Run] = []
        public var leads = 0
        public var ingestSeconds = 0.0
        /// The baseline writing through cursors, as the engine does (what the target is
        /// checked against).
        public var baselineAppendSeconds = 0.0
        /// The baseline writing with one `mdb_put` per record (a raw writer that keeps no cursor).
        public var baselinePutAppendSeconds = 0.0
        public var replaySeconds = 0.0
        public var baselineScanSeconds = 0.0
        public var rescoreSeconds = 0.0
        public var attributionSeconds: [(model: String, seconds: Double)] = []
        public var leadReadMicros: [Double] = []
        public var historyReadMicros: [Double] = []
        public var peakRSSMiB = 0.0
        /// The ingest's batch: records per append request.
        public var batchSize = 0
        /// Write transactions the ingest committed (group commit merges requests).
        public var ingestCommits = 0
        /// Records per transaction in the baseline: the engine's mean per commit.
        public var baselineBatchSize = 0
        /// The whole process's peak, baseline included.
        public var processPeakRSSMiB = 0.0
        /// Resident memory when each stage began (MiB).
        public var stageRSS: [(stage: String, mib: Double)] = []

        public var ingestEventsPerSec: Double { Double(events) / ingestSeconds }
        /// The median of the runs' ratios (ingest ÷ cursor baseline).
        public var ingestRatio: Double { Self.median(runs.map(\.ratio)) }
        /// The first run's ingest ÷ the `mdb_put` baseline (written from the same store).
        public var ingestRatioToPutBaseline: Double {
            guard let first = runs.first, baselinePutAppendSeconds > 0 else { return 0 }
            return baselinePutAppendSeconds / first.ingestSeconds
        }
        public var baselineIngestEventsPerSec: Double { Double(events) / baselineAppendSeconds }
        public var baselinePutIngestEventsPerSec: Double { Double(events) / baselinePutAppendSeconds }
        public var replayEventsPerSec: Double { Double(events) / replaySeconds }
        public var baselineScanEventsPerSec: Double { Double(events) / baselineScanSeconds }
        public var slowestAttributionSeconds: Double { attributionSeconds.map(\.seconds).max() ?? 0 }

        public static func percentile(_ values: [Double], _ p: Double) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
        }

        static func median(_ values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }

    public let options: Options
    let progress: (String) -> Void

    public init(options: Options, progress: @escaping (String) -> Void) {
        self.options = options
        self.progress = progress
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(now() - start) / 1e9 }

    public func run() throws -> Result {
        var result = Result()
        let manager = FileManager.default
        try? manager.removeItem(atPath: options.directory)
        try manager.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
        defer { if !options.keep { try? manager.removeItem(atPath: options.directory) } }
        let input = (options.directory as NSString).appendingPathComponent("events.jsonl")

        // 1. The data set (not timed).
        progress("generating \(options.events) events")
        // Twice the leads needed at ~20 events each, cut at exactly the number asked for.
        result.events = try Generator(leads: 2 * (options.events / 20 + 1), seed: options.seed)
            .write(to: input, limit: options.events) { progress("generating: \($0) of \(options.events) events") }
        // On the disk before anything is timed: the kernel writing the data set back later
        // would compete with the durable commits of the ingest and the replay.
        try FileHandle(forWritingTo: URL(fileURLWithPath: input)).synchronize()

        // 2. Bulk ingest: parse, validate, index, chain, project, durable commit.
        let store = try LeadStore(path: (options.directory as NSString).appendingPathComponent("store"), options: options.storeOptions)
        defer { store.close() }
        let first = try ingest(input, into: store, events: result.events, run: 1)
        result.batchSize = first.requestSize
        var started = Self.now()

        result.stageRSS.append(("Full replay", Self.currentRSSMiB()))
        // 3. Full replay: rebuild every projection from position 1.
        progress("replay")
        started = Self.now()
        try store.rebuildProjections { done, total in progress("replay: \(done) of \(total) events") }
        result.replaySeconds = Self.seconds(since: started)

        result.stageRSS.append(("Rescore", Self.currentRSSMiB()))
        // 4. Rescore under changed rules (the spec's rules published first).
        progress("rescore")
        let rules = try RulesDocument.parse(BenchRules.spec, path: "spec.yaml")
        try store.publishRules(rules, actor: "bench", at: Timestamp(rfc3339: "2026-11-01T00:00:00Z")!)
        let changed = try RulesDocument.parse(BenchRules.changed, path: "changed.yaml")
        started = Self.now()
        let report = try store.rescore(with: changed, asOf: Timestamp(rfc3339: "2026-11-01T00:00:00Z")!)
        result.rescoreSeconds = Self.seconds(since: started)
        result.leads = report.leads

        result.stageRSS.append(("Every attribution", Self.currentRSSMiB()))
        // 5. Every attribution model over the whole store.
        let names = try store.dimensionNames()
        for model in AttributionModel.allCases {
            progress("attribution: \(model.rawValue)")
            started = Self.now()
            var accumulator = AttributionAccumulator(settings: AttributionSettings(model: model))
            try store.forEachJourney { _, journey in accumulator.add(journey) }
            let report = accumulator.report { names[$0] ?? "?" }
            result.attributionSeconds.append((model.rawValue, Self.seconds(since: started)))
            if report.rows.isEmpty { throw BenchFailure("attribution \(model.rawValue) produced no rows") }
        }

        result.stageRSS.append(("Single-lead", Self.currentRSSMiB()))
        // 6. Single-lead reads: state and history of random leads.
        progress("lead reads")
        var random = SeededRandom(seed: options.seed)
        let leadCount = max(1, result.leads)
        for _ in 0..<10_000 {
            let id = "L-" + String(Int.random(in: 1...leadCount, using: &random)).leftPadded(to: 6)
            started = Self.now()
            guard try store.lead(id) != nil else { throw BenchFailure("lead \(id) not found") }
            result.leadReadMicros.append(Double(Self.now() - started) / 1000)
            started = Self.now()
            _ = try store.history(of: id)
            result.historyReadMicros.append(Double(Self.now() - started) / 1000)
        }

        // The engine's peak, before the baseline maps its own copy of the data.
        result.peakRSSMiB = Self.peakRSSMiB()

        result.stageRSS.append(("The raw-LMDB baseline", Self.currentRSSMiB()))
        // 7. The raw-LMDB baseline: the same stored records, keys and batch size — as many
        //    records per transaction as the engine's ingest committed on average (last, so
        //    that its own memory does not count in the engine's peak).
        // Written twice: with one `mdb_put` per record, then through cursors kept for each
        // transaction (as the engine writes, and faster); the scan reads the second.
        let batchSize = first.batchSize(events: result.events)
        result.baselinePutAppendSeconds = try baseline(.puts, from: store, events: result.events, batchSize: batchSize) { _ in }
        let firstBaseline = try baseline(.cursors, from: store, events: result.events, batchSize: batchSize) { baseline in
            progress("baseline scan")
            let (scanned, scanSeconds) = try baseline.scan()
            guard scanned == result.events else { throw BenchFailure("the baseline scan read \(scanned) records") }
            result.baselineScanSeconds = scanSeconds
        }
        result.runs = [Run(ingestSeconds: first.seconds, baselineSeconds: firstBaseline, commits: first.commits)]

        // 8. The other runs of ingest and cursor baseline, each into a fresh store (after
        //    the rest, so that the engine's peak is still the first store's).
        for run in stride(from: 2, through: options.runs, by: 1) {
            let path = (options.directory as NSString).appendingPathComponent("store-\(run)")
            defer { try? manager.removeItem(atPath: path) }
            try {
                let store = try LeadStore(path: path, options: options.storeOptions)
                defer { store.close() }
                let ingested = try ingest(input, into: store, events: result.events, run: run)
                let seconds = try baseline(.cursors, from: store, events: result.events, batchSize: ingested.batchSize(events: result.events)) { _ in }
                result.runs.append(Run(ingestSeconds: ingested.seconds, baselineSeconds: seconds, commits: ingested.commits))
            }()
        }
        result.ingestSeconds = Result.median(result.runs.map(\.ingestSeconds))
        result.baselineAppendSeconds = Result.median(result.runs.map(\.baselineSeconds))
        result.ingestCommits = Int(Result.median(result.runs.map { Double($0.commits) }).rounded())
        result.baselineBatchSize = Self.baselineBatchSize(events: result.events, commits: result.ingestCommits)

        result.processPeakRSSMiB = Self.peakRSSMiB()
        return result
    }

    /// What one ingest measured.
    struct Ingested {
        var seconds: Double
        var commits: Int
        /// Records per append request.
        var requestSize: Int

        func batchSize(events: Int) -> Int {
            BenchRun.baselineBatchSize(events: events, commits: commits)
        }
    }

    /// The baseline's records per transaction: the engine's mean per commit.
    static func baselineBatchSize(events: Int, commits: Int) -> Int {
        max(1, Int((Double(events) / Double(max(commits, 1))).rounded()))
    }

    /// Ingests the data set into an empty store, timed.
    private func ingest(_ input: String, into store: LeadStore, events: Int, run: Int) throws -> Ingested {
        let ingestor = Ingestor(store: store)
        let rejects = RejectWriter(path: input + ".rejects.jsonl")
        let commitsBefore = store.log.commits
        let label = options.runs > 1 ? "ingest (run \(run) of \(options.runs))" : "ingest"
        let started = Self.now()
        let summary = try ingestor.ingest(path: input, rejects: rejects) { state in
            progress("\(label): \(state.lines) of \(events) events")
        }
        let seconds = Self.seconds(since: started)
        guard summary.appended == events else {
            throw BenchFailure("ingest stored \(summary.appended) of \(events) events (\(summary.rejected) rejected)")
        }
        return Ingested(seconds: seconds, commits: store.log.commits - commitsBefore, requestSize: ingestor.batchSize)
    }

    /// Writes the store's records into a fresh raw-LMDB baseline, `batchSize` per transaction;
    /// returns the seconds the writes took. `then` runs with the baseline still open.
    private func baseline(
        _ writes: RawBaseline.Writes, from store: LeadStore, events: Int, batchSize: Int, then: (RawBaseline) throws -> Void
    ) throws -> Double {
        let path = (options.directory as NSString).appendingPathComponent("baseline-\(writes)")
        // (Closing a baseline unmaps its file before the next one.)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let baseline = try RawBaseline(path: path, writes: writes)
        var seconds = 0.0
        var batch: [RawBaseline.Record] = []
        batch.reserveCapacity(batchSize)
        try store.log.forEach(through: UInt64(events)) { record in
            batch.append(RawBaseline.Record(position: record.position, id: Array(record.id), stream: Array(record.stream), value: Array(record.stored)))
            if batch.count == batchSize {
                seconds += try baseline.append(batch)
                batch.removeAll(keepingCapacity: true)
                progress("baseline append (\(writes)): \(record.position) events")
            }
        }
        if !batch.isEmpty { seconds += try baseline.append(batch) }
        batch = []
        try then(baseline)
        return seconds
    }

    static func currentRSSMiB() -> Double { System.residentMiB() }

    static func peakRSSMiB() -> Double { System.peakResidentMiB() }
}

public struct BenchFailure: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "bench: \(message)" }
}

enum BenchRules {
    static var spec: String {
        ExampleRules.spec.replacingOccurrences(of: "2026-11-a", with: "bench-a")
    }

    static var changed: String {
        spec.replacingOccurrences(of: "bench-a", with: "bench-b").replacingOccurrences(of: "mql_threshold: 60", with: "mql_threshold: 50")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
