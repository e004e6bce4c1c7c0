import ArgumentParser
import Foundation
import LeadEngine
import LedgerJSON
import LedgerSystem

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append events from JSONL (or CSV) files or stdin to the log.",
        discussion: """
            Every line is validated; valid lines are stored, an event id already in the log \
            is skipped as a duplicate, and every refused line goes, with its line number and \
            the reason, to the rejects file (default <input>.rejects.jsonl, or \
            ./stdin.rejects.jsonl for stdin). Exit code: 0 when nothing was rejected, 2 when \
            some lines were rejected (the rest is stored), 1 on a failure. CSV has a header row; \
            a record may span lines (line breaks inside quoted cells) and is reported at its \
            first line.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("Input files; - or nothing reads stdin.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp(
        "jsonl or csv: the input's format (default: csv for *.csv files, else jsonl); table or json: the summary's format (default: table). May be given twice, e.g. --format csv --format json.",
        valueName: "FORMAT"))
    var format: [IngestFormatArgument] = []

    @Option(help: ArgumentHelp("Where refused lines go (one file for all inputs).", valueName: "FILE"))
    var rejects: String?

    @Option(name: .customLong("max-line-bytes"), parsing: .unconditional, help: ArgumentHelp(
        "The longest line (CSV: record) accepted, in bytes, from 1,024 to 1,073,741,824 (default 1,048,576). A longer one is refused with its line number and only its first KiB in the rejects file (\"inputTruncated\": true), and reading goes on at the next line.",
        valueName: "N"))
    var maxLineBytes: Int = Ingestor.defaultMaxLineBytes

    func validate() throws {
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be read only once") }
        if format.filter(\.isInput).count > 1 { throw ValidationError("give one input format: jsonl or csv") }
        if format.filter({ !$0.isInput }).count > 1 { throw ValidationError("give one summary format: table or json") }
        try OptionCheck.whole(maxLineBytes, "--max-line-bytes", in: Ingestor.maxLineBytesRange)
    }

    private var summaryAsJSON: Bool { format.contains(.json) }

    private func inputFormat(for path: String) -> InputFormat {
        if format.contains(.csv) { return .csv }
        if format.contains(.jsonl) { return .jsonl }
        return path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
    }

    func run() throws {
        let inputs = files.isEmpty ? ["-"] : files
        // (It reads as empty now: /dev/null is in its place. See System.standardDescriptorsAtStart.)
        if inputs.contains("-") && System.standardInputWasClosed {
            throw CLIError("standard input is closed; give the events as a FILE argument (- or no FILE reads standard input)")
        }
        let store = try storeOptions.openForWriting()
        defer { store.close() }
        let ingestor = Ingestor(store: store)
        ingestor.maxLineBytes = maxLineBytes
        let progress = Progress()
        let shared = rejects.map(RejectWriter.init(path:))
        var total = IngestSummary()
        var rejectFiles: [String] = []

        for input in inputs {
            let writer = shared ?? RejectWriter(path: Self.defaultRejectsPath(for: input))
            ingestor.format = inputFormat(for: input)
            let summary: IngestSummary
            do {
                summary = try ingestor.ingest(path: input, rejects: writer) { state in
                    let percent = state.totalBytes.map { $0 > 0 ? " \(state.bytes * 100 / $0)%" : "" } ?? ""
                    let rate = Int(Double(state.lines) / max(progress.elapsed, 0.001))
                    progress.update("ingesting \(state.path):\(percent) \(state.lines.grouped) lines, \(state.summary.appended.grouped) appended (\(rate.grouped) lines/s)")
                }
            } catch let failure as IngestFailure {
                progress.finish()
                total += failure.summary
                try? writer.close()
                if summaryAsJSON {
                    // Scripts learn exactly where it stopped: the stored part is lines
                    // 1…storedThroughLine of this input.
                    var json = summaryJSON(total, rejectFiles: rejectFiles + (writer.count > 0 ? [writer.path] : []))
                    json["failed"] = .object([
                        "file": .string(failure.path), "storedThroughLine": .integer(failure.settledThroughLine),
                        "stoppedAtLine": .integer(failure.line), "error": .string(StoreFault.describe(failure.underlying, store: failure.store)),
                    ])
                    print(JSONWriter.render(.object(json)))
                }
                throw CLIError(failure.description + (total.rejected > 0 ? " (rejected lines so far are in \(writer.path))" : ""))
            } catch let failure as System.FileError {
                progress.finish()
                throw CLIError(failure.description)
            } catch let failure as CSVInputFailure {
                progress.finish()
                throw CLIError(failure.description)
            }
            total += summary
            if shared == nil {
                try writer.close()
                if writer.count > 0 { rejectFiles.append(writer.path) } else { Self.removeStale(writer.path) }
            }
        }
        progress.finish()
        if let shared {
            try shared.close()
            if shared.count > 0 { rejectFiles.append(shared.path) }
        }
        print(render(total, rejectFiles: rejectFiles))
        if total.rejected > 0 {
            printToStderr("\(total.rejected.grouped) line(s) rejected; see \(rejectFiles.joined(separator: ", "))")
            throw ExitCode(2)
        }
    }

    static func defaultRejectsPath(for input: String) -> String {
        input == "-" ? "./stdin.rejects.jsonl" : input + ".rejects.jsonl"
    }

    /// A default rejects file left by an earlier run would describe lines that are no longer
    /// rejected; a clean run removes it.
    static func removeStale(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    private func summaryJSON(_ summary: IngestSummary, rejectFiles: [String]) -> JSONObject {
        [
            "appended": .integer(summary.appended), "duplicates": .integer(summary.duplicates),
            "rejected": .integer(summary.rejected), "lines": .integer(summary.lines),
            "rejectsFiles": .array(rejectFiles.map(JSONValue.string)),
        ]
    }

    private func render(_ summary: IngestSummary, rejectFiles: [String]) -> String {
        if summaryAsJSON {
            return JSONWriter.render(.object(summaryJSON(summary, rejectFiles: rejectFiles)))
        }
        return "appended \(summary.appended.grouped), duplicates \(summary.duplicates.grouped), rejected \(summary.rejected.grouped)"
    }
}

/// `ingest --format`'s values: two input formats (the spec's `--format jsonl|csv`) and two
/// summary formats (`--format json` for scripts).
enum IngestFormatArgument: String, ExpressibleByArgument, CaseIterable {
    case jsonl
    case csv
    case table
    case json

    var isInput: Bool { self == .jsonl || self == .csv }
}
