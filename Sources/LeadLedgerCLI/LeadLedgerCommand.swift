import ArgumentParser

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
            LeadCommand.self,
            Audit.self,
            Rebuild.self,
            RulesCommand.self,
            Rescore.self,
            ScoreCommand.self,
            ReportCommand.self,
            AttributionPaths.self,
            BenchCommand.self,
        ]
    )

    public init() {}
}
