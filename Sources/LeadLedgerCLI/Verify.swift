import ArgumentParser
import EventLog
import LeadEngine
import LedgerJSON

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the whole log: recompute the hash chain and check every index against it.",
        discussion: "Exit code 0 when everything holds; 1 with the first bad position otherwise.")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Also compare every projection, row by row, with a fresh replay of the log (in a compacted copy of the store, in the temporary directory).")
    var deep = false
    @OptionGroup var output: FormatOptions

    func run() throws {
        let store = try storeOptions.openForReading()
        defer { store.close() }
        let progress = Progress()
        let report = try store.log.verify { position in
            progress.update("verifying: \(Int(position).grouped) events checked")
        }
        // (The projections are checked once the log is known good: a replay of a bad log
        // says nothing about them.)
        let problems = report.isValid ? try store.verifyProjections(deep: deep) { progress.update("verifying: \($0)", force: true) } : []
        progress.finish()
        let ok = report.isValid && problems.isEmpty
        switch output.format {
        case .json, .html:
            print(JSONWriter.render([
                "ok": .bool(ok), "events": .integer(report.records),
                "position": report.failure.map { .integer($0.position) } ?? .null,
                "reason": .nullable(report.failure?.reason),
                "projections": .array(problems.map { ["table": .string($0.table), "key": .nullable($0.key), "problem": .string($0.problem)] }),
            ]))
        case .csv:
            print(TextTable(columns: ["ok", "events", "position", "reason"], rows: [[
                String(ok), String(report.records),
                report.failure.map { String($0.position) } ?? "", report.failure?.reason ?? problems.first?.description ?? "",
            ]]).renderCSV())
        case .table:
            if ok {
                print("ok: \(Int(report.records).grouped) events; the hash chain and every index agree; every projection row decodes\(deep ? " and equals a fresh replay" : "")")
            }
        }
        if let failure = report.failure {
            throw CLIError("verify failed at \(failure)")
        }
        if !problems.isEmpty {
            throw CLIError("verify found damaged projections (the log itself is intact): " + problems.map(\.description).joined(separator: "; "))
        }
    }
}
