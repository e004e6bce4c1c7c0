import ArgumentParser
import Foundation
import LeadServer
import LedgerJSON

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "API keys for the server: create (the secret is shown once), list, revoke.",
        discussion: """
            Keys live in keys.json in the store directory, as SHA-256 hashes only; a running \
            server picks changes up within a second. Roles: ingest (append), read (leads, \
            audit, reports, the log), admin (both, and rules).
            """,
        subcommands: [KeysCreate.self, KeysList.self, KeysRevoke.self])
}

extension Role: ExpressibleByArgument {}

struct KeysCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a key and print its secret (once).")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "ingest, read or admin.") var role: Role
    @Option(help: "A name for the key (default: the role and a number).") var name: String?
    @Option(help: ArgumentHelp("Tracking messages a second this key may send (429 with Retry-After past it); default: the server's --tracking-rate.", valueName: "N"))
    var rate: Double?

    func validate() throws {
        if let rate, !(rate >= 1 && rate.isFinite) { throw ValidationError("--rate must be at least 1 message a second") }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: storeOptions.path, withIntermediateDirectories: true)
        let keys = KeyStore(directory: storeOptions.path)
        let existing = Set(try keys.list().map(\.name))
        let chosen = name ?? (1...).lazy.map { "\(role.rawValue)-\($0)" }.first { !existing.contains($0) }!
        do {
            let secret = try keys.create(name: chosen, role: role, messagesPerSecond: rate)
            print(secret)
            printToStderr("created key \(chosen) (\(role.rawValue)); the secret above is shown only now: send it as Authorization: Bearer <secret>")
        } catch let failure as KeyStore.Failure {
            throw CLIError(failure.description)
        }
    }
}

struct KeysList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The keys: name, role, when created (never a secret).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let keys = try KeyStore(directory: storeOptions.path).list()
        switch output.format {
        case .json, .html:
            print(JSONWriter.render(["keys": .array(keys.map {
                ["name": .string($0.name), "role": .string($0.role.rawValue), "created": .string($0.created), "rate": $0.messagesPerSecond.map(JSONValue.number) ?? .null]
            })]))
        case .csv, .table:
            let table = TextTable(
                columns: ["name", "role", "created", "rate"],
                rows: keys.map { [$0.name, $0.role.rawValue, $0.created, $0.messagesPerSecond.map { JSONWriter.render(.number($0)) } ?? ""] })
            print(output.format == .csv ? table.renderCSV() : (keys.isEmpty ? "(no keys)" : table.renderTable()))
        }
    }
}

struct KeysRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by name: it is refused from then on.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The key's name.") var name: String

    func run() throws {
        do {
            try KeyStore(directory: storeOptions.path).revoke(name: name)
            print("revoked key \(name)")
        } catch let failure as KeyStore.Failure {
            throw CLIError(failure.description)
        }
    }
}
