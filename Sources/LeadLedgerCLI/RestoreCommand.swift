import ArgumentParser
import Foundation
import LeadEngine
import LedgerJSON

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Make a new store from a backup (leadledger backup), checked before it appears.",
        discussion: """
            Checks the backup's manifest (every file present, of its size and SHA-256), \
            copies the files, runs verify on the copy (the hash chain, every index, the \
            projections) and checks that the log ends at the position and chain hash the \
            manifest gives; only then does the store appear at --store, which must not exist \
            or be empty. A refused restore names the file and what differs, and leaves nothing.
            """)

    @Argument(help: ArgumentHelp("The backup's directory.", valueName: "DIR"))
    var directory: String
    @Option(help: ArgumentHelp("The new store's directory (it must not exist, or be empty).", valueName: "NEW"))
    var store: String
    @Flag(help: "Also compare every projection of the restored store with a fresh replay of its log (as verify --deep).")
    var deep = false
    @OptionGroup var output: FormatOptions

    func validate() throws {
        guard !directory.isEmpty else { throw ValidationError("DIR is empty: give the backup's directory") }
        guard !store.isEmpty else { throw ValidationError("--store is empty: give the new store's directory") }
        if BackupCommand.samePath(directory, store) {
            throw ValidationError("--store is the backup's own directory (\(directory)): restore into another directory")
        }
    }

    func run() throws {
        let progress = Progress()
        let started = Date()
        let report: RestoreReport
        do {
            report = try StoreRestore.restore(from: directory, into: store, deep: deep) { progress.update($0) }
        } catch let error as BackupError {
            progress.finish()
            throw CLIError("restore refused: \(error.description)")
        } catch {
            progress.finish()
            throw CLIError("cannot restore \(directory) into \(store): \(StoreFault.describe(error, store: store))")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        switch output.format {
        case .json, .html:
            print(JSONWriter.render([
                "ok": true, "store": .string(report.store), "events": .integer(report.events),
                "position": .integer(report.manifest.position), "hash": .string(report.manifest.hash),
                "created": .string(report.manifest.created), "source": .string(report.manifest.source),
                "seconds": .number((seconds * 1000).rounded() / 1000),
            ]))
        case .csv:
            print(TextTable(columns: ["store", "events", "position", "hash"], rows: [[
                report.store, String(report.events), String(report.manifest.position), report.manifest.hash,
            ]]).renderCSV())
        case .table:
            print("restored \(Int(report.events).grouped) events into \(report.store) in \(String(format: "%.2f", seconds)) s: verify passed\(deep ? " (deep)" : ""), and the log ends at position \(report.manifest.position) with the chain hash of the backup (taken \(report.manifest.created) from \(report.manifest.source))")
        }
    }
}
