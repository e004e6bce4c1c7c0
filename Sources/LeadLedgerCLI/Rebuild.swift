import ArgumentParser
import Foundation
import LeadEngine

struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild every projection from position 1 of the log.",
        discussion: "The result is byte-identical to the live projections; use it after a crash during an upgrade, or to measure replay.")

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let store = try storeOptions.openForWriting()
        defer { store.close() }
        let progress = Progress()
        let started = Date()
        let events = try store.rebuildProjections { done, total in
            progress.update("rebuilding: \(Int(done).grouped) of \(Int(total).grouped) events")
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        print("rebuilt the projections from \(Int(events).grouped) events in \(String(format: "%.2f", seconds)) s")
    }
}
