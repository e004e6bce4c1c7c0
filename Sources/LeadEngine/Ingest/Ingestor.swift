import Dispatch
import Foundation
import EventLog
import EventTranscoder
import LeadDomain
import LedgerJSON
import LedgerSystem

/// What an ingest run did.
public struct IngestSummary: Sendable, Equatable {
    public var appended = 0
    public var duplicates = 0
    public var rejected = 0
    /// Lines read (blank lines excluded); for CSV, records (the header row excluded).
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

/// Ingest stopped on a failure of the store (not of the input). The stored part is always a
/// prefix of the input, in input order: every line before `line` is settled (stored, a
/// duplicate, or in the rejects file), nothing from `line` on is stored, and a re-run of the
/// same input resumes (the stored lines count as duplicates).
public struct IngestFailure: Error, CustomStringConvertible {
    public var path: String
    /// The first line of the batch that failed: where the ingest stopped.
    public var line: Int
    public var summary: IngestSummary
    public var underlying: any Error
    /// The store's directory, named with the cause.
    public var store: String

    /// The last line settled before the failure (0: none).
    public var settledThroughLine: Int { max(line - 1, 0) }

    public var description: String {
        let cause = StoreFault.describe(underlying, store: store)
        let stored = line <= 1
            ? "nothing of \(path) was stored"
            : "stored lines 1–\(settledThroughLine) of \(path) (\(summary.appended) events appended)"
        return "\(stored); stopped at line \(line): \(cause). Re-running the same input resumes there: the stored lines count as duplicates"
    }
}

/// Streams events from a JSONL (or CSV) input into the store: parses and validates each line,
/// appends in large batches (parsing the next batch while the writer commits the previous
/// one), and sends every refused line, with its number and the reason, to a rejects file.
public final class Ingestor {
    public let store: LeadStore
    @exclusivity(unchecked) public var format: InputFormat
    @exclusivity(unchecked) public var batchSize: Int
    /// How many batches may be read ahead of their commit.
    @exclusivity(unchecked) public var maxInFlight = 8
    /// How many threads transcode JSONL batches: one for each core, up to four.
    @exclusivity(unchecked) public var transcoders = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// The longest line (CSV: record) accepted, in bytes without its line end. A longer one is
    /// refused with its line number and its first KiB, and not kept: memory stays bounded
    /// whatever the input (see `LineReader`).
    @exclusivity(unchecked) public var maxLineBytes = Ingestor.defaultMaxLineBytes
    public static let defaultMaxLineBytes = 1 << 20
    /// What `maxLineBytes` may be: from 1 KiB to 1 GiB.
    public static let maxLineBytesRange = 1024...(1 << 30)
    public init(store: LeadStore, format: InputFormat = .jsonl, batchSize: Int = 20_000) {
        self.store = store
        self.format = format
        self.batchSize = max(1, batchSize)
    }

    /// A line of the input that is in a batch (for CSV, a record, which may span lines): its
    /// (first) line number and where its text is in the batch's `text`.
    struct Line {
        var number: Int
        var text: Range<Int>
        /// Whether the line was longer than `maxLineBytes`: `text` is its first bytes only.
        var isTooLong = false
    }

    /// Consecutive lines of the input: their text, then the records made of them, waiting for
    /// their commit.
    final class Batch: @unchecked Sendable {
        /// The lines' (or CSV records') bytes (without their line ends), one after another. Kept until the
        /// batch is settled: a refused line goes to the rejects file as it was.
        let text = EncodedBytes(capacity: 1 << 22)
        /// The lines to transcode (JSONL; a CSV batch is parsed as it is read).
        @exclusivity(unchecked) var pending: [Line] = []
        @exclusivity(unchecked) var records: PendingBatch
        /// For each record, its line.
        @exclusivity(unchecked) var lines: [Line] = []
        /// The lines refused before the log saw them (not JSON, not a valid event), with the
        /// reason; in line order.
        @exclusivity(unchecked) var refused: [(line: Line, reason: String)] = []
        /// The log, whose sealer the transcoding thread runs on `records` (see `EventLog.seal`).
        @exclusivity(unchecked) var log: EventLog?
        /// Whether `records` is complete (set under the transcoders' lock).
        @exclusivity(unchecked) var isTranscoded = false
        /// The reason a line that is too long is refused with.
        @exclusivity(unchecked) var tooLongReason = ""
        let done = DispatchSemaphore(value: 0)
        @exclusivity(unchecked) var result: Result<[AppendOutcome], any Error>?

        init(records: Int) {
            // (Bytes for a typical line's id, lead and payload, which is smaller than the line.)
            self.records = PendingBatch(reservingRecords: records, bytes: records * 224)
            pending.reserveCapacity(records)
            lines.reserveCapacity(records)
        }

        /// Keeps the text of a line read from the input.
        func keep(_ line: UnsafeRawBufferPointer, number: Int, isTooLong: Bool = false) -> Line {
            Line(number: number, text: text.append(line), isTooLong: isTooLong)
        }

        /// Takes `line`'s record, or its refusal.
        func take(_ parsed: Result<PendingRecord, EnvelopeError>, of line: Line) {
            switch parsed {
            case .success(let record):
                records.append(record)
                lines.append(line)
            case .failure(let error):
                refused.append((line, error.description))
            }
        }

        /// Turns the pending JSONL lines into records (on a transcoder's thread).
        func transcode(scratch: EventTranscoder.Scratch) {
            for line in pending {
                if line.isTooLong {
                    refused.append((line, tooLongReason))
                    continue
                }
                let bytes = text[line.text]
                if Ingestor.transcode(jsonLine: bytes, scratch: scratch, into: &records) {
                    lines.append(line)
                } else {
                    take(Result { () throws(EnvelopeError) in LeadStore.pending(try Ingestor.parseJSONLine(bytes)) }, of: line)
                }
            }
            // (Here, on one of several threads, rather than in input order by the log. A
            // failure leaves the batch unsealed: the log fails it again, in order, stopping
            // the ingest there.)
            try? log?.seal(&records)
        }

        /// Empties a settled batch for the next lines, keeping its memory: a fresh batch's
        /// few megabytes cost a page fault per page as they fill, which was a twentieth of
        /// the reading thread's time.
        func reuse() -> Batch {
            text.removeAll()
            pending.removeAll(keepingCapacity: true)
            records.removeAll()
            lines.removeAll(keepingCapacity: true)
            refused.removeAll(keepingCapacity: true)
            isTranscoded = false
            result = nil
            return self
        }
    }

    /// Ingests one input (`-` for standard input). `rejects` receives every refused line.
    ///
    /// The input is read on a thread of its own, in batches of lines. Each JSONL batch is
    /// transcoded whole by one of `transcoders` threads (one a core), and the batches go to
    /// the log in input order, whichever thread finished them. Reading and transcoding run
    /// at a lower scheduling priority (nice 10) than the log's writer: on a machine with fewer
    /// cores than busy threads, the writer's stages run first whenever they have work, and
    /// the transcoders take the time left, on every core. Up to `maxInFlight` batches are read
    /// ahead of their commit; the reading thread settles them in order, and writes each
    /// batch's refused lines to `rejects` in line order.
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
            System.lowerThisThreadsPriority()
            // (For `top -H` and `perf`.)
            System.nameThisThread("ll-reader")
            body()
        }
    }

    /// What the reader thread returns; read after its semaphore.
    private final class Outcome: @unchecked Sendable {
        var result: Result<IngestSummary, any Error>?
    }

    private func ingestOnThisThread(path: String, rejects: RejectWriter, progress: ((IngestProgress) -> Void)?) throws -> IngestSummary {
        // JSONL is read a line at a time; CSV a record at a time, which may span lines.
        enum Source {
            case jsonl(LineReader)
            case csv(CSVEventReader)
        }
        let source: Source
        let reader: any IngestInput
        switch format {
        case .jsonl:
            let lines = try LineReader(path: path, maxLineBytes: maxLineBytes)
            (source, reader) = (.jsonl(lines), lines)
        case .csv:
            let csv = try CSVEventReader(path: path, maxRecordBytes: maxLineBytes)
            (source, reader) = (.csv(csv), csv)
        }
        var summary = IngestSummary()
        // The batches form one chain: once one fails, the log stores none after it.
        let chain = AppendChain()
        var inFlight: [Batch] = []
        /// Settled batches, for reuse (see `Batch.reuse`).
        var settled: [Batch] = []
        let log = store.log
        let pool = Transcoders(count: transcoders) { batch in
            // (In input order, on whichever thread finished the batch that was next.)
            guard !batch.records.isEmpty else {
                batch.result = .success([])
                batch.done.signal()
                return
            }
            log.submit(batch.records, chain: chain) { result in
                batch.result = result
                batch.done.signal()
            }
        }
        defer { pool.stop() }

        func reject(_ line: Line, of batch: Batch, _ reason: String) throws {
            summary.rejected += 1
            try rejects.reject(path: reader.path, line: line.number, reason: reason, raw: batch.text[line.text], truncated: line.isTooLong)
        }

        /// Counts a committed batch and writes its refused lines, the log's refusals and the
        /// earlier ones together, in line order.
        func settle(_ finished: Batch) throws {
            finished.done.wait()
            switch finished.result! {
            case .success(let outcomes):
                var refused = finished.refused[...]
                for (outcome, line) in zip(outcomes, finished.lines) {
                    while let first = refused.first, first.line.number < line.number {
                        try reject(first.line, of: finished, first.reason)
                        refused.removeFirst()
                    }
                    switch outcome {
                    case .appended: summary.appended += 1
                    case .duplicate: summary.duplicates += 1
                    case .rejected(let reason): try reject(line, of: finished, reason)
                    case .conflict(let expected, let actual):
                        try reject(line, of: finished, "the lead has \(actual) events, expected \(expected)")
                    }
                }
                for (line, reason) in refused {
                    try reject(line, of: finished, reason)
                }
            case .failure(let error):
                let first = [finished.lines.first?.number, finished.refused.first?.line.number].compactMap { $0 }.min()
                throw IngestFailure(path: reader.path, line: first ?? reader.lineNumber, summary: summary, underlying: error, store: store.path)
            }
            if settled.count < 2 { settled.append(finished) }
        }

        do {
            var ended = false
            while !ended {
                // A batch at a time, with one closure for all its lines: the batch is a
                // constant there, and nothing it captures is retained again for each line.
                let batch = settled.popLast()?.reuse() ?? Batch(records: batchSize)
                batch.log = log
                batch.tooLongReason = "line is longer than \(maxLineBytes) bytes (--max-line-bytes)"
                var read = 0
                let parsed: Bool
                switch source {
                case .csv(let csv):
                    // (CSV is parsed here, in order: its first record is the header.)
                    ended = try !csv.forEachEvent { event, line, text -> Bool in
                        batch.take(event.map(LeadStore.pending), of: batch.keep(text, number: line, isTooLong: csv.recordIsTooLong))
                        read += 1
                        return read < batchSize
                    }
                    parsed = true
                case .jsonl(let lines):
                    ended = try !lines.forEachLine { bytes -> Bool in
                        if lines.lineIsTooLong {
                            batch.pending.append(batch.keep(bytes, number: lines.lineNumber, isTooLong: true))
                        } else {
                            if Self.isBlank(bytes) { return true }
                            batch.pending.append(batch.keep(bytes, number: lines.lineNumber))
                        }
                        read += 1
                        return read < batchSize
                    }
                    parsed = false
                }
                summary.lines += read
                pool.enqueue(batch, transcoded: parsed)
                inFlight.append(batch)
                while inFlight.count >= maxInFlight {
                    try settle(inFlight.removeFirst())
                }
                progress?(IngestProgress(path: reader.path, lines: reader.lineNumber, bytes: reader.bytesRead, totalBytes: reader.totalBytes, summary: summary))
            }
            while !inFlight.isEmpty {
                try settle(inFlight.removeFirst())
            }
        } catch {
            // The batches still in flight come after the failure: the chain keeps the log
            // from storing any of them. Wait for their answers before the pool stops.
            for pending in inFlight {
                pending.done.wait()
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

    /// The threads that transcode JSONL batches, each batch whole on one thread, and hand
    /// every batch on (`handOn`) in the order it was enqueued.
    final class Transcoders: @unchecked Sendable {
        private let condition = NSCondition()
        /// Batches to transcode, oldest first.
        private var waiting: [Batch] = []
        /// Batches enqueued and not handed on yet, oldest first.
        private var unsent: [Batch] = []
        private var stopping = false
        private var running = 0
        private let handOn: (Batch) -> Void

        init(count: Int, handOn: @escaping (Batch) -> Void) {
            self.handOn = handOn
            running = count
            for _ in 0..<count {
                let thread = Thread { [self] in work() }
                thread.stackSize = 8 << 20  // (the general path parses nested JSON recursively)
                thread.start()
            }
        }

        /// Queues `batch`; one already `transcoded` (CSV) is only handed on in its turn.
        func enqueue(_ batch: Batch, transcoded: Bool) {
            condition.lock()
            defer { condition.unlock() }
            unsent.append(batch)
            if transcoded {
                batch.isTranscoded = true
                handOnReady()
            } else {
                waiting.append(batch)
                condition.signal()
            }
        }

        /// Lets the threads end once every batch is transcoded; returns when they have.
        func stop() {
            condition.lock()
            defer { condition.unlock() }
            stopping = true
            condition.broadcast()
            while running > 0 { condition.wait() }
        }

        private func work() {
            System.lowerThisThreadsPriority()
            System.nameThisThread("ll-transcoder")
            let scratch = EventTranscoder.Scratch()
            condition.lock()
            while true {
                while waiting.isEmpty && !stopping { condition.wait() }
                guard !waiting.isEmpty else { break }
                let batch = waiting.removeFirst()
                condition.unlock()
                batch.transcode(scratch: scratch)
                condition.lock()
                batch.isTranscoded = true
                handOnReady()
            }
            running -= 1
            condition.broadcast()
            condition.unlock()
        }

        /// Hands on the oldest batches that are transcoded (with the lock held).
        private func handOnReady() {
            while let first = unsent.first, first.isTranscoded {
                unsent.removeFirst()
                handOn(first)
            }
        }
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

/// What ingest reads from, for progress and messages: a `LineReader` (JSONL) or a
/// `CSVEventReader`.
protocol IngestInput: AnyObject {
    var path: String { get }
    /// The physical lines read so far.
    var lineNumber: Int { get }
    var bytesRead: Int { get }
    var totalBytes: Int? { get }
}

extension LineReader: IngestInput {}
extension CSVEventReader: IngestInput {}

/// Writes refused lines as JSONL — `{"file","line","reason","input"}` — so that nothing is
/// lost: fix the lines and ingest the file again. A line too long to keep has its first bytes
/// in `input` and `"inputTruncated": true`. The file is created (truncated) on the first
/// reject only.
public final class RejectWriter {
    public let path: String
    private var file: System.OutputFile?
    public private(set) var count = 0

    public init(path: String) {
        self.path = path
    }

    public func reject(path input: String, line: Int, reason: String, raw: some Collection<UInt8>, truncated: Bool = false) throws {
        let file = try self.file ?? System.OutputFile(creating: path)
        self.file = file
        var record: JSONObject = [
            "file": .string(input), "line": .integer(line), "reason": .string(reason),
            "input": .string(String(decoding: raw, as: UTF8.self)),
        ]
        if truncated { record["inputTruncated"] = true }
        var bytes: [UInt8] = []
        JSONWriter.write(.object(record), into: &bytes)
        bytes.append(0x0A)
        try file.write(bytes)
        count += 1
    }

    /// Flushes and closes the file (a full disk shows here at the latest).
    public func close() throws {
        try file?.close()
        file = nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
