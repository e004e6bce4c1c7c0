import ArgumentParser
import LeadEngine
import Reports

struct AccountFunnelReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account-funnel",
        abstract: "Accounts reaching each stage (one of their leads did), by the month of their first lead's capture.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var range: RangeOptions
    @OptionGroup var output: ReportOutput

    func run() throws {
        let window = try range.range()
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let report = try AccountReports.accountFunnel(range: window) { body in
            try store.forEachAccountJourneys { _, journeys in try body(journeys) }
        }
        try output.emit(report)
    }
}
