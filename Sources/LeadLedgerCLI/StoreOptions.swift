import ArgumentParser
import Foundation
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

    func open() throws -> LeadStore {
        do {
            return try LeadStore(path: path)
        } catch {
            throw CLIError("cannot open the store at \(path): \(error)")
        }
    }
}

/// An error for the user: printed as `Error: <message>` on stderr, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
