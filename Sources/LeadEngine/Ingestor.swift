import Dispatch
import Foundation
import EventLog
import LeadDomain
import LedgerJSON

/// What an ingest run did.
public struct IngestSummary: Sendable, Equatable {
    public var appended = 0
    public var duplicates = 0
    public var rejected = 0
    /// Lines read (blank lines excluded).
    public var lines = 0

    public init() {}

    public static func += (lhs: inout IngestSummary, rhs: IngestSummary) {
        lhs.appended += rhs.appended
        lhs.duplicates += rhs.duplicates
        lhs.rejected += rhs.rejected
        lhs.lines += rhs.lines
    }
}

public struct IngestProgress: Sendable {
    public var path: String
    public var lines: Int
    public var bytes: Int
    public var totalBytes: Int?
    public var summary: IngestSummary
}

public enum InputFormat: String, Sendable, CaseIterable {
    case jsonl
    case csv
}

/// Ingest stopped on a failure of the store (not of the input): what was stored before it
/// stays stored, and a re-run skips it as duplicates.
public struct IngestFailure: Error, CustomStringConvertible {
    public var path: String
    /// The first line of the batch that failed.
    public var line: Int
    public var summary: IngestSummary
    public var underlying: any Error

    public var description: String {
        let stored = summary.appended == 0
            ? "nothing from \(path) was stored"
            : "\(summary.appended) events were stored before it; re-running the same input skips them as duplicates"
        return "storing the batch starting at \(path) line \(line) failed: \(underlying) — \(stored)"
    }
}

/// Streams events from a JSONL (or CSV) input into the store: parses and validates each line,
/// appends in large batches (parsing the next batch while the writer commits the previous
/// one), and sends every refused line, with its number and the reason, to a rejects file.
public final class Ingestor {
    public let store: LeadStore
    public var format: InputFormat
    public var batchSize: Int
    /// How many batches may be queued at the writer while the next one is parsed.
    public var maxInFlight = 8

    public init(store: LeadStore, format: InputFormat = .jsonl, batchSize: Int = 20_000) {
        self.store = store
        self.format = format
        self.batchSize = max(1, batchSize)
    }

    /// A batch parsed from consecutive lines, waiting for its commit.
    private final class Batch: @unchecked Sendable {
        var records: PendingBatch
        /// For each record: its line number and where its raw text is — in the input, if
        /// the reader can read it again (only refused lines are), else in `raw`.
        var lines: [(number: Int, start: Int, count: Int)] = []
        var raw: [UInt8] = []
        let done = DispatchSemaphore(value: 0)
        var result: Result<[AppendOutcome], any Error>?

        init(records: Int) {
            // (Bytes for a typical line's id, lead and payload, which is smaller than the line.)
            self.records = PendingBatch(reservingRecords: records, bytes: records * 224)
            lines.reserveCapacity(records)
        }

        /// Empties a settled batch for the next lines, keeping its memory: a fresh batch's
        /// few megabytes cost a page fault per page as they fill, which was a twentieth of
        /// the reading thread's time.
        func reuse() -> Batch {
            records.removeAll()
            lines.removeAll(keepingCapacity: true)
            raw.removeAll(keepingCapacity: true)
            result = nil
            return self
        }
    }

    /// Ingests one input (`-` for standard input). `rejects` receives every refused line.
    ///
    /// The input is read and transcoded on a thread of its own at a lower scheduling priority
    /// (this one waits for it, and `progress` is called there). Reading is the stage that can
    /// run ahead: up to `maxInFlight` batches wait for the log's writer (see `Writer`), whose
    /// stages each wait on the one before. On a machine with fewer cores than busy threads,
    /// the writer's stages then run first whenever they have work, and the reader takes the
    /// time left: on the project's 2-core machine a million lines took 1.40 s instead of 1.49 s
    /// (the medians of six alternating runs each).
    public func ingest(path: String, rejects: RejectWriter, progress: ((IngestProgress) -> Void)? = nil) throws -> IngestSummary {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let work = Work { [self] in
            outcome.result = Result { try self.ingestOnThisThread(path: path, rejects: rejects, progress: progress) }
            done.signal()
        }
        let thread = Thread { work.run() }
        thread.stackSize = 8 << 20  // (the general path parses nested JSON recursively)
        thread.start()
        done.wait()
        return try outcome.result!.get()
    }

    /// Hands the reading to the reader thread, which is the only one to touch it.
    private final class Work: @unchecked Sendable {
        private let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }

        func run() {
            #if os(Linux)
            // On Linux a thread's nice value is its own (not the process's).
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            // (For `top -H` and `perf`.)
            nameThisThread("ll-reader")
            body()
        }
    }

    /// What the reader thread returns; read after its semaphore.
    private final class Outcome: @unchecked Sendable {
        var result: Result<IngestSummary, any Error>?
    }

    private func ingestOnThisThread(path: String, rejects: RejectWriter, progress: ((IngestProgress) -> Void)?) throws -> IngestSummary {
        let reader = try LineReader(path: path)
        var csv: CSVEventReader? = format == .csv ? CSVEventReader() : nil
        let scratch = EventTranscoder.Scratch()
        var summary = IngestSummary()
        var inFlight: [Batch] = []
        /// Settled batches, for reuse (see `Batch.reuse`).
        var settled: [Batch] = []
        var batch = Batch(records: batchSize)

        func rawLine(_ line: (number: Int, start: Int, count: Int), of batch: Batch) throws -> [UInt8] {
            reader.canReread
                ? try reader.reread(offset: line.start, count: line.count)
                : Array(batch.raw[line.start..<line.start + line.count])
        }

        func settle(_ finished: Batch) throws {
            finished.done.wait()
            switch finished.result! {
            case .success(let outcomes):
                for (outcome, line) in zip(outcomes, finished.lines) {
                    switch outcome {
                    case .appended: summary.appended += 1
                    case .duplicate: summary.duplicates += 1
                    case .rejected(let reason):
                        summary.rejected += 1
                        try rejects.reject(path: reader.path, line: line.number, reason: reason, raw: rawLine(line, of: finished))
                    case .conflict(let expected, let actual):
                        summary.rejected += 1
                        try rejects.reject(path: reader.path, line: line.number, reason: "the lead has \(actual) events, expected \(expected)", raw: rawLine(line, of: finished))
                    }
                }
            case .failure(let error):
                throw IngestFailure(path: reader.path, line: finished.lines.first?.number ?? reader.lineNumber, summary: summary, underlying: error)
            }
            if settled.count < 2 { settled.append(finished) }
        }

        func submit() throws {
            guard !batch.records.isEmpty else { return }
            let submitted = batch
            store.log.submit(submitted.records) { result in
                submitted.result = result
                submitted.done.signal()
            }
            // (The writer shares the records until it has stored them and let go of them;
            // the batch is reused only after that.)
            inFlight.append(submitted)
            while inFlight.count >= maxInFlight {
                try settle(inFlight.removeFirst())
            }
            batch = settled.popLast()?.reuse() ?? Batch(records: batchSize)
            progress?(IngestProgress(path: reader.path, lines: reader.lineNumber, bytes: reader.bytesRead, totalBytes: reader.totalBytes, summary: summary))
        }

        do {
            // A batch at a time, with one closure for all its lines: the batch is a constant
            // there, and nothing it captures is retained again for each line (a closure for
            // each line, capturing the batch as a variable, cost several retains and releases
            // per line, a twentieth of the reading thread).
            var ended = false
            while !ended {
                let current = batch
                ended = try !reader.forEachLine { line -> Bool in
                    // (Whether the line counts as an input line: not blank, not a CSV header.)
                    if try Self.take(line, into: current, csv: &csv, scratch: scratch, reader: reader, rejects: rejects, rejected: &summary.rejected) {
                        summary.lines += 1
                    }
                    return current.records.count < batchSize
                }
                try submit()
            }
            while !inFlight.isEmpty {
                try settle(inFlight.removeFirst())
            }
        } catch {
            // Let the batches already queued finish (they may commit), so the summary in the
            // error counts everything that was stored.
            for pending in inFlight {
                pending.done.wait()
                if case .success(let outcomes)? = pending.result {
                    summary.appended += outcomes.filter { $0.position != nil }.count
                }
            }
            if var failure = error as? IngestFailure {
                failure.summary = summary
                throw failure
            }
            throw error
        }
        progress?(IngestProgress(path: reader.path, lines: reader.lineNumber, bytes: reader.bytesRead, totalBytes: reader.totalBytes, summary: summary))
        // An ingested rules.published puts new rules in force: rescore every lead under them.
        try store.refreshScoresIfNeeded()
        return summary
    }

    /// Puts one input line's record into `batch`, or its rejection into `rejects`; returns
    /// whether it counts as an input line (not blank, not a CSV header).
    private static func take(
        _ line: UnsafeRawBufferPointer, into batch: Batch, csv: inout CSVEventReader?, scratch: EventTranscoder.Scratch, reader: LineReader,
        rejects: RejectWriter, rejected: inout Int
    ) throws -> Bool {
        if isBlank(line) { return false }
        /// The line's record is in the batch: keep where the line is, for its outcome.
        func noteLine() {
            if reader.canReread {
                batch.lines.append((reader.lineNumber, reader.lineOffset, line.count))
            } else {
                batch.lines.append((reader.lineNumber, batch.raw.count, line.count))
                batch.raw.append(contentsOf: line)
            }
        }
        let parsed: Result<PendingRecord, EnvelopeError>
        if csv != nil {
            guard let row = csv!.event(fromLine: line) else { return false }
            parsed = row.map(LeadStore.pending)
        } else if transcode(jsonLine: line, scratch: scratch, into: &batch.records) {
            noteLine()
            return true
        } else {
            parsed = Result { () throws(EnvelopeError) in LeadStore.pending(try parseJSONLine(line)) }
        }
        switch parsed {
        case .success(let record):
            batch.records.append(record)
            noteLine()
        case .failure(let error):
            rejected += 1
            try rejects.reject(path: reader.path, line: reader.lineNumber, reason: error.description, raw: line)
        }
        return true
    }

    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// The fast path of a JSONL line: a simple, valid line (nearly all) is transcoded by
    /// `EventTranscoder`, straight from its bytes into `batch`. Returns `false` for every
    /// other line, and every invalid one: those take the general path (`parseJSONLine`),
    /// which also words the rejection. A touch's or a capture's record carries no parsed
    /// event (the append hook reads its payload in place); any other carries the event
    /// decoded from its payload.
    static func transcode(jsonLine line: UnsafeRawBufferPointer, scratch: EventTranscoder.Scratch, into batch: inout PendingBatch) -> Bool {
        EventTranscoder.transcode(line, scratch: scratch) { id, stream, payload in
            // The other events (one in ten) are decoded here and handed to the log's hook with
            // the record: the log's sequencer, which validates each event against its lead,
            // then need not. Touches and captures it reads in place.
            if let type = try? EventCodec.header(payload).type, !type.isTouch, type != .leadCaptured,
               let event = try? EventCodec.decode(payload, id: String(decoding: id, as: UTF8.self), lead: String(decoding: stream, as: UTF8.self)) {
                batch.append(id: id, stream: stream, payload: payload, attachment: DecodedEvent(event))
            } else {
                batch.append(id: id, stream: stream, payload: payload)
            }
        }
    }

    /// One JSONL line to a validated event (the general path).
    public static func parseJSONLine(_ line: UnsafeRawBufferPointer) throws(EnvelopeError) -> Envelope {
        let json: JSONValue
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw EnvelopeError(field: nil, error.description)
        }
        return try Envelope(json: json)
    }
}

/// Writes refused lines as JSONL — `{"file","line","reason","input"}` — so that nothing is
/// lost: fix the lines and ingest the file again. The file is created (truncated) on the
/// first reject only.
public final class RejectWriter {
    public let path: String
    private var handle: UnsafeMutablePointer<FILE>?
    public private(set) var count = 0

    public init(path: String) {
        self.path = path
    }

    deinit {
        close()
    }

    public func reject(path input: String, line: Int, reason: String, raw: some Collection<UInt8>) throws {
        if handle == nil {
            guard let opened = fopen(path, "w") else {
                throw FileWriteFailure(path: path, errno: errno)
            }
            handle = opened
        }
        let record: JSONValue = [
            "file": .string(input), "line": .integer(line), "reason": .string(reason),
            "input": .string(String(decoding: raw, as: UTF8.self)),
        ]
        var bytes: [UInt8] = []
        JSONWriter.write(record, into: &bytes)
        bytes.append(0x0A)
        guard fwrite(bytes, 1, bytes.count, handle) == bytes.count else {
            throw FileWriteFailure(path: path, errno: errno)
        }
        count += 1
    }

    public func close() {
        if let handle {
            fclose(handle)
            self.handle = nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
