import ArgumentParser
import LedgerSystem

/// `leadledger`: the root command. Each subcommand lives in its own file.
public struct LeadLedgerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "leadledger",
        abstract: "An event-sourced lead lifecycle engine on an LMDB event log.",
        discussion: """
            The store is the directory given by --store, else $LEADLEDGER_STORE, else \
            ./leadledger-data. Errors go to stderr with a non-zero exit code.
            """,
        subcommands: [
            Demo.self,
            Generate.self,
            Ingest.self,
            Verify.self,
            BackupCommand.self,
            RestoreCommand.self,
            LeadCommand.self,
            AccountCommand.self,
            Audit.self,
            Rebuild.self,
            RulesCommand.self,
            Rescore.self,
            ScoreCommand.self,
            ReportCommand.self,
            AttributionPaths.self,
            BenchCommand.self,
            Serve.self,
            KeysCommand.self,
        ]
    )

    public init() {}

    /// Puts /dev/null on each standard descriptor the caller closed (see
    /// `System.standardDescriptorsAtStart`); call it before anything opens a file. If one
    /// cannot be occupied, the store's files could become the program's input or output:
    /// it refuses to run (exit code 1).
    public static func occupyClosedStandardDescriptors() {
        guard let failure = System.standardDescriptorsAtStart.failure else { return }
        let name = ["input", "output", "error"][Int(failure.descriptor)]
        exit(withError: CLIError(
            "standard \(name) (descriptor \(failure.descriptor)) is closed and /dev/null cannot be opened in its place: \(System.describe(failure.errno)); run leadledger with it open"))
    }
}
