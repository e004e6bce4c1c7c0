import ArgumentParser
import EventLog
import Foundation
import LeadDomain
import LeadEngine

/// The global `--store` option, shared by every command that opens a store.
struct StoreOptions: ParsableArguments {
    static let environmentVariable = "LEADLEDGER_STORE"
    static let defaultPath = "./leadledger-data"

    @Option(name: .long, help: ArgumentHelp(
        "The store directory (default: $LEADLEDGER_STORE, else ./leadledger-data).",
        valueName: "DIR"))
    var store: String?

    var path: String {
        if let store { return store }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultPath
    }

    @Option(name: .customLong("master-key-file"), help: ArgumentHelp(
        "The store's master key: 32 bytes or their base64 (default: $LEADLEDGER_MASTER_KEY). Given to a store without one, personal fields are encrypted from then on.",
        valueName: "FILE"))
    var masterKeyFile: String?

    /// The master key given, if any.
    func masterKey() throws -> MasterKey? {
        do {
            return try MasterKey.load(file: masterKeyFile)
        } catch {
            throw CLIError("\(error)")
        }
    }

    @Flag(name: .customLong("no-wait"), help: "Write commands: fail at once, naming the holder, when another process is writing the store (default: wait for it).")
    var noWait = false

    /// Opens the store for a command that writes: takes the store's writer lock, waiting for
    /// another writer (saying who) unless `--no-wait`, and creates the store if need be.
    func openForWriting(holding detail: String? = nil) throws -> LeadStore {
        var options = LeadStore.Options()
        options.masterKey = try masterKey()
        // (Read only when the key store is created: the store keeps the list it was made with.)
        if let names = ProcessInfo.processInfo.environment[PersonalFields.environmentVariable], !names.isEmpty {
            options.personalFields = PersonalFields(names: names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        options.log.writerDetail = detail
        if !noWait {
            options.log.waitForWriter = { notice in printToStderr(notice) }
        }
        do {
            return try LeadStore(path: path, options: options)
        } catch {
            throw CLIError(Self.describe(error, path: path))
        }
    }

    /// Opens an existing store for a command that only reads: never creates one, never waits
    /// for a writer, works on read-only media. If a writer stopped before the projections
    /// caught up with the log, they are caught up here when no one is writing (or read as
    /// they are, with a warning).
    func openForReading() throws -> LeadStore {
        let store: LeadStore
        var reading = LeadStore.Options.reading
        reading.masterKey = try masterKey()
        do {
            store = try LeadStore(path: path, options: reading)
        } catch {
            throw CLIError(Self.describe(error, path: path))
        }
        guard (try? store.projectionsAreCurrent) == false else { return store }
        store.close()
        var options = LeadStore.Options()
        options.masterKey = reading.masterKey
        options.log.waitForWriter = nil
        if let writable = try? LeadStore(path: path, options: options) {
            return writable
        }
        printToStderr("warning: the projections of \(path) are behind its log, and the store cannot be caught up now (another process is writing it, or it is read-only); showing them as they are")
        do {
            return try LeadStore(path: path, options: reading)
        } catch {
            throw CLIError(Self.describe(error, path: path))
        }
    }

    static func describe(_ error: any Error, path: String) -> String {
        switch error {
        case let error as StoreError: return error.description
        case let error as LogError: return error.description
        case let error as KeyStoreError: return error.description
        default: return "cannot open the store at \(path): \(StoreFault.describe(error, store: path))"
        }
    }
}

/// An error for the user: printed as `Error: <message>` on stderr, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
