import ArgumentParser
import EventLog
import LeadEngine
import LedgerJSON

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the whole log: recompute the hash chain and check every index against it.",
        discussion: "Exit code 0 when everything holds; 1 with the first bad position otherwise.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let progress = Progress()
        let report = try store.log.verify { position in
            progress.update("verifying: \(Int(position).grouped) events checked")
        }
        progress.finish()
        switch output.format {
        case .json, .html:
            print(JSONWriter.render([
                "ok": .bool(report.isValid), "events": .integer(report.records),
                "position": report.failure.map { .integer($0.position) } ?? .null,
                "reason": .nullable(report.failure?.reason),
            ]))
        case .csv:
            print(TextTable(columns: ["ok", "events", "position", "reason"], rows: [[
                String(report.isValid), String(report.records),
                report.failure.map { String($0.position) } ?? "", report.failure?.reason ?? "",
            ]]).renderCSV())
        case .table:
            if report.isValid {
                print("ok: \(Int(report.records).grouped) events; the hash chain and every index agree")
            }
        }
        if let failure = report.failure {
            throw CLIError("verify failed at \(failure)")
        }
    }
}
