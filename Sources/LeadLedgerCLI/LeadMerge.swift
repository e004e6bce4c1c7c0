import ArgumentParser
import EventLog
import Foundation
import LeadDomain
import LeadEngine

/// `lead merge DUPLICATE --into SURVIVOR`: one person recorded twice becomes one lead.
struct LeadMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a duplicate lead into the lead that survives.",
        discussion: """
            Appends a lead.merged event to the survivor's stream. From then on the survivor's journey holds both \
            leads' events in time order (the more advanced stage wins; the survivor's profile fields win, the \
            duplicate's fill gaps; one conversion), and the duplicate's id resolves to the survivor. Refused for a \
            lead merged into itself, into a lead merged away, in a cycle, or for two customers with different won \
            opportunities.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The duplicate lead's id (merged away).") var duplicate: String
    @Option(name: .customLong("into"), help: ArgumentHelp("The lead that survives.", valueName: "SURVIVOR")) var survivor: String
    @Option(help: "Who merges (recorded as the event's actor; default: the login name).") var actor: String?
    @Option(help: "Why, recorded with the merge.") var reason: String?

    func validate() throws {
        if duplicate.isEmpty { throw ValidationError("the duplicate lead's id is empty") }
        if survivor.isEmpty { throw ValidationError("--into: the survivor lead's id is empty") }
        if duplicate == survivor { throw ValidationError("cannot merge lead \(duplicate) into itself: give another lead to --into") }
        if actor?.isEmpty == true { throw ValidationError("--actor is empty") }
    }

    func run() throws {
        let who = actor ?? Self.loginName
        let event: Envelope
        do {
            event = try LeadStore.mergeEvent(duplicate: duplicate, into: survivor, actor: who, at: .now, reason: reason)
        } catch {
            throw CLIError("cannot merge: \(error)")
        }
        let store = try storeOptions.openForWriting()
        defer { store.close() }
        switch try store.append([event])[0] {
        case .appended(let position):
            print("merged lead \(duplicate) into lead \(survivor) (position \(position), by \(who))")
        case .duplicate(let position):
            print("lead \(duplicate) was merged into lead \(survivor) already (position \(position))")
        case .rejected(let reason):
            throw CLIError(reason)
        case .conflict:
            throw CLIError("the merge was not stored (conflict)")
        }
    }

    static var loginName: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LOGNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "leadledger-cli"
    }
}
