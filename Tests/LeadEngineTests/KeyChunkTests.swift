import EventLog
import Foundation
import LeadDomain
@testable import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// New keys are wrapped a chunk at a time; erasing one key wraps the rest of its chunk again.
@Suite("Erasure: keys wrapped in chunks")
struct KeyChunkTests {
    /// More leads in one append than one chunk holds: the flush writes two chunks.
    static let leads = (1...(LeadKeyStore.KeyChunk.maximumKeys + 40)).map { "C-\($0)" }

    static func email(_ lead: String) -> String { "person-\(lead.lowercased())@chunk.example" }

    @Test func erasingOneKeyOfAChunkLeavesNoTraceAndTheOthersStillOpen() throws {
        let temporary = TemporaryDirectory("chunks")
        let directory = temporary.file("store")
        let store = try LeadStore(path: directory, options: ErasureTests.options)
        _ = try store.append(Self.leads.map { Events.captured($0, at: "2026-03-01T10:00:00Z", extra: ["email": .string(Self.email($0))]) })
        let erased = "C-7"
        let key = try #require(try store.keys?.rawKey(of: erased))
        let neighbour = try #require(try store.keys?.rawKey(of: "C-8"))
        let sizeBefore = try #require(try FileManager.default.attributesOfItem(atPath: directory + "/" + LeadKeyStore.fileName)[.size] as? Int)
        // One record per chunk, not one per key (60 bytes of box and its framing each).
        #expect(sizeBefore < Self.leads.count * 60)

        _ = try store.erase(erased, reason: "request", actor: "dpo")
        #expect(try ErasureTests.filesHolding([Array(Self.email(erased).utf8), key], under: directory).isEmpty)

        // A reader of the rewritten file (another process's view) opens every other key, the
        // ones wrapped again with the erased one's and those of the other chunk.
        let reader = try LeadKeyStore(directory: directory, master: ErasureTests.master, create: false, writable: false, personal: PersonalFields())
        #expect(try reader.rawKey(of: "C-8") == neighbour)
        for lead in [erased, "C-1", "C-8", Self.leads[LeadKeyStore.KeyChunk.maximumKeys - 1], Self.leads.last ?? ""] {
            let email = EventCodec.opened(try #require(try store.lead(lead)).profile, by: reader)["email"]
            #expect(email == (lead == erased ? .string(SealedValue.erasedText) : .string(Self.email(lead))), "\(lead)")
        }
        #expect(reader.erasure(of: erased)?.reason == "request")

        // The writer reopened reads the same, and erases a key of the other chunk too.
        store.close()
        let again = try LeadStore(path: directory, options: ErasureTests.options)
        defer { again.close() }
        #expect(again.shown(try #require(try again.lead("C-9"))).profile["email"] == .string(Self.email("C-9")))
        let last = Self.leads.last ?? ""
        _ = try again.erase(last, reason: "another", actor: "dpo")
        #expect(again.shown(try #require(try again.lead(last))).profile["email"] == .string(SealedValue.erasedText))
        let fresh = try LeadKeyStore(directory: directory, master: ErasureTests.master, create: false, writable: false, personal: PersonalFields())
        #expect(try fresh.rawKey(of: "C-8") == neighbour)
        #expect(try fresh.rawKey(of: erased) == nil)
    }
}
