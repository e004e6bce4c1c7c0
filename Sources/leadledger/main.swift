import ArgumentParser
import LeadLedgerCLI

// Before anything opens a file: a standard descriptor the caller closed would be the number
// of the next file opened (the store's), read as input or written as output.
LeadLedgerCommand.occupyClosedStandardDescriptors()
LeadLedgerCommand.main()
