import ArgumentParser
import Foundation
import LeadEngine
import LedgerJSON

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted backup of the store into a new directory, while it is being written.",
        discussion: """
            Runs beside a server or an ingest (it takes no writer lock): LMDB copies the log \
            and its projections from one read snapshot, leaving free pages out. DIR gets the \
            copy (data.mdb), its head (log.head), the store's API keys (keys.json) and a \
            manifest (manifest.json: position and chain hash at the copy's end, time, source, \
            each file's size and SHA-256). DIR must not exist or be empty; it appears only \
            once complete. Restore with: leadledger restore DIR --store NEW.
            """)

    @Argument(help: ArgumentHelp("The directory to write the backup into (new, or empty).", valueName: "DIR"))
    var directory: String
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard !directory.isEmpty else { throw ValidationError("DIR is empty: give the directory to write the backup into") }
        if Self.samePath(directory, storeOptions.path) {
            throw ValidationError("DIR is the store itself (\(storeOptions.path)): give another directory")
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        let resolve = { (path: String) in URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }
        return resolve(a) == resolve(b)
    }

    func run() throws {
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let progress = SharedProgress()
        let started = Date()
        let manifest: BackupManifest
        do {
            manifest = try store.backup(into: directory) { progress.update($0) }
        } catch let error as BackupError {
            progress.finish()
            throw CLIError(error.description)
        } catch {
            progress.finish()
            throw CLIError("cannot back up \(storeOptions.path) into \(directory): \(StoreFault.describe(error, store: directory))")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        let sourceBytes = ((try? FileManager.default.attributesOfItem(atPath: store.path + "/data.mdb"))?[.size] as? NSNumber)?.intValue ?? 0
        switch output.format {
        case .json, .html:
            var object = manifest.json.objectValue ?? [:]
            object["path"] = .string(URL(fileURLWithPath: directory).standardizedFileURL.path)
            object["seconds"] = .number((seconds * 1000).rounded() / 1000)
            object["sourceDataBytes"] = .integer(sourceBytes)
            print(JSONWriter.render(.object(object)))
        case .csv:
            print(TextTable(columns: ["name", "bytes", "sha256"], rows: manifest.files.map { [$0.name, String($0.bytes), $0.sha256] }).renderCSV())
        case .table:
            let data = manifest.files.first { $0.name == "data.mdb" }?.bytes ?? 0
            print("backed up \(Int(manifest.position).grouped) events (chain hash \(manifest.hash.prefix(16))…) into \(directory) in \(String(format: "%.2f", seconds)) s")
            print("data.mdb: \(Int(data).grouped) bytes (the store's: \(Int(sourceBytes).grouped)); files: \(manifest.files.map(\.name).joined(separator: ", ")), \(BackupManifest.fileName)")
        }
    }
}

/// The progress display for work that reports from another thread (a backup's copy is
/// watched by one): updates are serialised by a lock.
final class SharedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let progress = Progress()

    func update(_ text: String) {
        lock.withLock { progress.update(text) }
    }

    func finish() {
        lock.withLock { progress.finish() }
    }
}
