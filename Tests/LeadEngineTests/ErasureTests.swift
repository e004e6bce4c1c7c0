import EventLog
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LeadDomain
@testable import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// Personal fields sealed with each lead's key, and erased by destroying it.
@Suite("Erasure: personal fields encrypted per lead, erased by destroying the key")
struct ErasureTests {
    static let email = "ada.lovelace-7731@Analytical-Engines.example"
    static let master = MasterKey.random()

    static var options: LeadStore.Options {
        var options = LeadStore.Options()
        options.masterKey = master
        return options
    }

    static let events: [Envelope] = [
        Events.captured("L-1", at: "2026-03-01T10:00:00Z", extra: [
            "email": .string(email), "firstName": "Ada", "lastName": "Lovelace-7731", "phone": "+44 7731 000111",
            "title": "VP Engineering", "company": "Analytical Engines", "channel": "webinar", "campaign": "Q1 Webinar",
        ]),
        Events.touch("L-1", id: "t-1", .touchWebinarAttended, at: "2026-03-02T10:00:00Z", channel: "webinar", campaign: "Q1 Webinar"),
        Events.event(.leadQualified, "L-1", id: "q-1", at: "2026-03-03T10:00:00Z", actor: "mops", ["by": "manual"]),
        Events.event(.leadHandedOff, "L-1", id: "h-1", at: "2026-03-04T10:00:00Z", actor: "mops", ["to": "ae-carla", "note": "call Ada on 7731"]),
        Events.event(.salesAccepted, "L-1", id: "a-1", at: "2026-03-05T10:00:00Z", actor: "ae-carla"),
        Events.event(.opportunityOpened, "L-1", id: "o-1", at: "2026-03-06T10:00:00Z", actor: "ae-carla", ["opportunity": "OPP-1", "amount": 5000]),
        Events.event(.dealClosed, "L-1", id: "d-1", at: "2026-03-20T10:00:00Z", actor: "ae-carla",
                     ["opportunity": "OPP-1", "outcome": "won", "amount": 5000]),
        Events.captured("L-2", at: "2026-03-01T11:00:00Z", extra: ["email": "grace@navy.example", "firstName": "Grace", "channel": "ads"]),
        Events.touch("L-2", id: "t-2", at: "2026-03-02T11:00:00Z", channel: "email", campaign: "Nurture"),
    ]

    /// Every file under `directory`, as bytes, by path.
    static func files(under directory: String) throws -> [(path: String, bytes: [UInt8])] {
        let manager = FileManager.default
        guard let names = manager.enumerator(atPath: directory)?.allObjects as? [String] else { return [] }
        return try names.compactMap { name in
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return (path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
    }

    /// Every projection table's rows, to compare.
    static func snapshot(_ store: LeadStore) throws -> [[[UInt8]]] {
        try store.projectionSnapshot().map { [$0.key, $0.value] }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBytes { text in
            needle.withUnsafeBytes { wanted in
                let first = wanted[0]
                for start in 0...(text.count - wanted.count) where text[start] == first {
                    if memcmp(text.baseAddress! + start, wanted.baseAddress!, wanted.count) == 0 { return true }
                }
                return false
            }
        }
    }

    /// The files under `directory` that hold any of `needles`, named.
    static func filesHolding(_ needles: [[UInt8]], under directory: String) throws -> [String] {
        try files(under: directory).filter { file in needles.contains { contains(file.bytes, $0) } }.map(\.path)
    }

    @Test func personalFieldsAreSealedOnTheWayInAndOpenedForReaders() throws {
        let test = try TestStore("sealed", options: Self.options)
        try test.append(Self.events)
        let store = test.store
        #expect(store.keys != nil)

        // The projection holds sealed values only; readers see them opened.
        let raw = try #require(try store.lead("L-1"))
        #expect(raw.profile["email"]?.stringValue != Self.email)
        #expect(raw.profile["email"]?.stringValue.flatMap(SealedValue.content(ofToken:)) != nil)
        #expect(raw.profile["emailDomain"] == "analytical-engines.example")
        #expect(raw.profile["title"] == "VP Engineering")
        let shown = store.shown(raw)
        #expect(shown.profile["email"] == .string(Self.email))
        #expect(shown.profile["firstName"] == "Ada")
        #expect(shown.profile["phone"] == "+44 7731 000111")

        let history = try store.history(of: "L-1")
        #expect(history.first?.event.data["lastName"] == "Lovelace-7731")
        #expect(history.first { $0.event.id == "h-1" }?.event.data["note"] == "call Ada on 7731")
        var streamed: [UInt8] = []
        _ = try store.scanStored(typePrefix: "lead.captured", after: 0, limit: 10) { try $0.writeJSON(into: &streamed) }
        #expect(String(decoding: streamed, as: UTF8.self).contains(Self.email))

        // Nothing of the plaintext reached a file.
        #expect(try Self.filesHolding([Array(Self.email.utf8), Array("Lovelace-7731".utf8)], under: test.directory.file("store")).isEmpty)
    }

    @Test func theBulkIngestPathSealsAsTheGeneralPathDoes() throws {
        let dir = TemporaryDirectory("ingest-sealed")
        let input = try dir.write("events.jsonl", Self.events.map(Events.line).joined(separator: "\n"))
        let store = try LeadStore(path: dir.file("store"), options: Self.options)
        defer { store.close() }
        let summary = try Ingestor(store: store, batchSize: 4).ingest(path: input, rejects: RejectWriter(path: dir.file("rejects.jsonl")))
        #expect(summary.appended == Self.events.count)
        #expect(store.shown(try #require(try store.lead("L-1"))).profile["email"] == .string(Self.email))
        #expect(try store.lead("L-1")?.profile["emailDomain"] == "analytical-engines.example")
        #expect(try Self.filesHolding([Array(Self.email.utf8)], under: dir.file("store")).isEmpty)
    }

    @Test func erasingMakesThePlaintextAndTheKeyUnrecoverableWhileEveryTotalStays() throws {
        let test = try TestStore("erase", options: Self.options)
        try test.append(Self.events)
        let store = test.store
        let key = try #require(try store.keys?.rawKey(of: "L-1"))
        let before = try Self.snapshot(store)
        let scoreBefore = try store.score(of: "L-1", asOf: Events.at("2026-04-01T00:00:00Z"))?.score

        let outcome = try store.erase("L-1", reason: "GDPR request 1182", actor: "dpo-kim")
        #expect(outcome.lead == "L-1")
        #expect(!outcome.alreadyErased)
        #expect(outcome.streams == ["L-1"])

        // Reads: erased everywhere.
        let shown = store.shown(try #require(try store.lead("L-1")))
        #expect(shown.profile["email"] == .string(SealedValue.erasedText))
        #expect(shown.profile["firstName"] == .string(SealedValue.erasedText))
        #expect(shown.profile["emailDomain"] == "analytical-engines.example")
        #expect(shown.profile["title"] == "VP Engineering")
        #expect(store.erasure(of: "L-1")?.reason == "GDPR request 1182")
        let history = try store.history(of: "L-1")
        #expect(history.first?.event.data["email"] == .string(SealedValue.erasedText))
        #expect(history.first { $0.event.id == "h-1" }?.event.data["note"] == .string(SealedValue.erasedText))
        #expect(history.last?.event.type == .leadErased)
        #expect(history.last?.event.data == ["reason": "GDPR request 1182"])
        var audited: [LoggedEvent] = []
        try store.audit(AuditFilter(lead: "L-1")) { audited.append($0) }
        #expect(audited.first?.event.data["lastName"] == .string(SealedValue.erasedText))
        var streamed: [UInt8] = []
        _ = try store.scanStored(typePrefix: nil, after: 0, limit: 100) { try $0.writeJSON(into: &streamed) }
        let stream = String(decoding: streamed, as: UTF8.self)
        #expect(!stream.contains("Lovelace") && stream.contains(SealedValue.erasedText))
        // The other lead is untouched.
        #expect(store.shown(try #require(try store.lead("L-2"))).profile["email"] == "grace@navy.example")

        // Every projection (so every report) is as it was, and the log verifies. The lead's
        // account came from the e-mail's domain, kept in plaintext beside the sealed address.
        #expect(try Self.snapshot(store) == before)
        #expect(try store.lead("L-1")?.account == "analytical-engines.example")
        #expect(try store.account("analytical-engines.example").leads.map(\.lead) == ["L-1"])
        #expect(try store.score(of: "L-1", asOf: Events.at("2026-04-01T00:00:00Z"))?.score == scoreBefore)
        #expect(try store.log.verify().failure == nil)

        // Erasing again says so, with the first erasure.
        let again = try store.erase("L-1", reason: "another request", actor: "dpo-kim")
        #expect(again.alreadyErased)
        #expect(again.erasure.reason == "GDPR request 1182")
        #expect(again.position == outcome.position)

        // No file of the store, nor of a backup taken now, holds the plaintext or the key.
        let needles = [Array(Self.email.utf8), Array("Lovelace-7731".utf8), Array("call Ada".utf8), key]
        #expect(try Self.filesHolding(needles, under: test.directory.file("store")).isEmpty)
        let backup = test.directory.file("backup")
        let manifest = try store.backup(into: backup)
        #expect(manifest.files.contains { $0.name == LeadKeyStore.fileName })
        #expect(try Self.filesHolding(needles, under: backup).isEmpty)

        // Replay and rescore work on the erased lead and give the same.
        try store.rebuildProjections()
        #expect(try Self.snapshot(store) == before)
        #expect(try store.lead("L-1")?.account == "analytical-engines.example")
        let rules = try RulesDocument.parse(ExampleRules.spec, path: "spec.yaml")
        let report = try store.rescore(with: rules, asOf: Events.at("2026-04-01T00:00:00Z"))
        #expect(report.leads == 2)

        // The backup restores, still erased, with the other lead's fields readable.
        let restored = test.directory.file("restored")
        _ = try StoreRestore.restore(from: backup, into: restored, deep: true)
        var reading = LeadStore.Options.reading
        reading.masterKey = Self.master
        let copy = try LeadStore(path: restored, options: reading)
        defer { copy.close() }
        #expect(copy.shown(try #require(try copy.lead("L-1"))).profile["email"] == .string(SealedValue.erasedText))
        #expect(copy.shown(try #require(try copy.lead("L-2"))).profile["email"] == "grace@navy.example")
    }

    @Test func aReaderBesideTheWriterSeesNewKeysAndErasures() async throws {
        let test = try TestStore("beside", options: Self.options)
        try test.append(Self.events)
        // The key store as another process reading the store opens it.
        let reader = try LeadKeyStore(directory: test.directory.file("store"), master: Self.master, create: false, writable: false, personal: PersonalFields())
        func email(_ lead: String) throws -> JSONValue? {
            EventCodec.opened(try #require(try test.store.lead(lead)).profile, by: reader)["email"]
        }
        #expect(try email("L-1") == .string(Self.email))
        // A lead (and its key) that came after the reader opened.
        try test.append(Events.captured("L-5", extra: ["email": "late@example.org"]))
        #expect(try email("L-5") == "late@example.org")
        // An erasure: the key file is replaced; the reader notices within half a second.
        _ = try test.store.erase("L-1", reason: "request", actor: "dpo")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try email("L-1") == .string(SealedValue.erasedText))
        #expect(reader.erasure(of: "L-1")?.reason == "request")
        #expect(try email("L-5") == "late@example.org")
    }

    @Test func anErasureEventFromInputIsRefused() throws {
        let test = try TestStore("input-erasure", options: Self.options)
        try test.append(Self.events)
        let outcome = try test.append(Events.event(.leadErased, "L-1", id: "forged", at: "2026-04-01T10:00:00Z", actor: "someone", ["reason": "x"]))
        guard case .rejected(let reason)? = outcome.first else {
            Issue.record("an ingested lead.erased was stored: \(outcome)")
            return
        }
        #expect(reason.contains("lead erase"))
        #expect(test.store.erasure(of: "L-1") == nil)
    }

    @Test func laterPersonalFieldsOfAnErasedLeadAreNotKeptEither() throws {
        let test = try TestStore("after-erase", options: Self.options)
        try test.append(Self.events)
        _ = try test.store.erase("L-1", reason: "request", actor: "dpo")
        try test.append(Events.event(.leadEnriched, "L-1", id: "e-1", at: "2026-04-01T10:00:00Z", ["phone": "+44 7731 999999"]))
        let history = try test.store.history(of: "L-1")
        #expect(history.last?.event.data["phone"] == .string(SealedValue.erasedText))
        #expect(try Self.filesHolding([Array("7731 999999".utf8)], under: test.directory.file("store")).isEmpty)
    }

    @Test func theMasterKeyIsNeededToWriteAndToReadPersonalFields() throws {
        let dir = TemporaryDirectory("master-key")
        let path = dir.file("store")
        do {
            let store = try LeadStore(path: path, options: Self.options)
            _ = try store.append(Self.events)
            store.close()
        }
        // A writer without it may do anything but store personal fields.
        let writer = try LeadStore(path: path)
        let error = #expect(throws: KeyStoreError.self) {
            try writer.append([Events.captured("L-3", extra: ["email": "x@y.example"])])
        }
        #expect(error?.description.contains("--master-key-file") == true)
        #expect(error?.description.contains(MasterKey.environmentVariable) == true)
        #expect(try writer.append([Events.captured("L-4")]).first?.position != nil)
        // Nor erase: the keys sharing a chunk with the lead's are wrapped again.
        let erasing = #expect(throws: ErasureError.self) { try writer.erase("L-1", reason: "request", actor: "dpo") }
        #expect(erasing?.description.contains("--master-key-file") == true)
        #expect(erasing?.description.contains(MasterKey.environmentVariable) == true)
        #expect(writer.erasure(of: "L-1") == nil)
        writer.close()

        // A reader without it sees personal fields as locked, the rest as usual.
        let reader = try LeadStore(path: path, options: .reading)
        let shown = reader.shown(try #require(try reader.lead("L-1")))
        #expect(shown.profile["email"] == .string(SealedValue.lockedText))
        #expect(shown.profile["title"] == "VP Engineering")
        reader.close()

        // Another key is refused, naming the file.
        var wrong = LeadStore.Options()
        wrong.masterKey = MasterKey.random()
        let refusal = #expect(throws: KeyStoreError.self) { try LeadStore(path: path, options: wrong) }
        #expect(refusal == .wrongMasterKey(path + "/" + LeadKeyStore.fileName))

        // A master key file: 32 bytes, or their base64; anything else is named.
        let file = try dir.write("master.key", MasterKey.generateBase64() + "\n")
        #expect(try MasterKey.load(file: file, environment: [:]) != nil)
        let bad = try dir.write("bad.key", "not a key")
        #expect(throws: MasterKeyError.self) { try MasterKey.load(file: bad, environment: [:]) }
        #expect(try MasterKey.load(file: nil, environment: [:]) == nil)
        #expect(try MasterKey.load(file: nil, environment: [MasterKey.environmentVariable: MasterKey.generateBase64()]) != nil)
    }

    @Test func aPlaintextStoreCannotBeErased() throws {
        let test = try TestStore("plaintext")
        try test.append(Self.events)
        #expect(test.store.keys == nil)
        #expect(try test.store.lead("L-1")?.profile["email"] == .string(Self.email))
        #expect(throws: ErasureError.plaintextStore(test.store.path)) {
            try test.store.erase("L-1", reason: "request", actor: "dpo")
        }
        let encrypted = try TestStore("encrypted", options: Self.options)
        #expect(throws: ErasureError.unknownLead("L-9")) {
            try encrypted.store.erase("L-9", reason: "request", actor: "dpo")
        }
    }

    @Test func erasingALeadErasesTheLeadsMergedIntoIt() throws {
        let test = try TestStore("merged", options: Self.options)
        try test.append(Self.events)
        #expect(try test.store.merge("L-2", into: "L-1", actor: "ops").position != nil)
        let outcome = try test.store.erase("L-2", reason: "request", actor: "dpo")
        #expect(outcome.lead == "L-1")
        #expect(Set(outcome.streams) == ["L-1", "L-2"])
        let rows = try test.store.history(of: "L-1")
        #expect(rows.contains { $0.event.data["email"] == .string(SealedValue.erasedText) && $0.event.lead == "L-2" })
        #expect(try Self.filesHolding([Array("grace@navy".utf8)], under: test.directory.file("store")).isEmpty)
    }

    @Test func rulesOnPersonalFieldsAreNamed() throws {
        let rules = try RulesDocument.parse(ExampleRules.spec, path: "spec.yaml")
        #expect(PersonalFields().rulesReadingPersonalFields(rules) == ["fit[3] (email)"])
        let domainRules = try RulesDocument.parse(ExampleRules.withoutPersonalFields, path: "domain.yaml")
        #expect(PersonalFields().rulesReadingPersonalFields(domainRules).isEmpty)
    }
}
