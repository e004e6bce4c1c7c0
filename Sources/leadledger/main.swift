import ArgumentParser
import LeadLedgerCLI
import LedgerSystem

// Before anything opens a file: a standard descriptor the caller closed would be the number
// of the next file opened (the store's), read as input or written as output.
LeadLedgerCommand.occupyClosedStandardDescriptors()
// The writer's threads allocate and free a group's worth of leads at a time (see the call).
System.keepFreedHeapForReuse()
LeadLedgerCommand.main()
