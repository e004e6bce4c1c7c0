import ArgumentParser
import LeadLedgerCLI

LeadLedgerCommand.main()
