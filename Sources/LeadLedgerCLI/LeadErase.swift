import ArgumentParser
import Foundation
import LeadDomain
import LeadEngine

/// `lead erase ID --reason TEXT`: a person's request to be forgotten (crypto-shredding).
struct LeadErase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a lead's personal fields for good (its keys are destroyed).",
        discussion: """
            Destroys the keys that encrypt the lead's personal fields (and those of its visitors and of the leads \
            merged into it), then appends a lead.erased event with the reason and who asked. From then on the \
            fields read as "[erased]" everywhere; stages, touches, scores and revenue stay, so every report total \
            is unchanged and `verify` still passes. Needs a store that encrypts personal fields (written with \
            --master-key-file or LEADLEDGER_MASTER_KEY). Erasing a lead again reports the first erasure.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The lead's id.") var id: String
    @Option(help: "Why (e.g. the request's reference), recorded in the lead.erased event; no personal data.") var reason: String
    @Option(help: "Who erases (recorded as the event's actor; default: the login name).") var actor: String?

    func validate() throws {
        if id.isEmpty { throw ValidationError("the lead's id is empty") }
        if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason is empty: say why the lead is erased") }
        if actor?.isEmpty == true { throw ValidationError("--actor is empty") }
    }

    func run() throws {
        let store = try storeOptions.openForWriting()
        defer { store.close() }
        let outcome: LeadStore.ErasureOutcome
        do {
            outcome = try store.erase(id, reason: reason, actor: actor ?? LeadMerge.loginName)
        } catch let error as ErasureError {
            throw CLIError("cannot erase lead \(id): \(error)")
        }
        let lead = outcome.lead == id ? "lead \(id)" : "lead \(id) (merged into lead \(outcome.lead))"
        if outcome.alreadyErased {
            print("\(lead) was erased already at \(outcome.erasure.at.rfc3339) (\(outcome.erasure.reason)); lead.erased at position \(outcome.position)")
        } else {
            print("erased \(lead): \(outcome.streams.count) key(s) destroyed; lead.erased at position \(outcome.position)")
        }
    }
}
