import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LMDB
import LedgerJSON
import Testing
import TestSupport

@Suite("Lead store: validation on append, projections, audit")
struct StoreTests {
    @Test func aBatchIsValidatedAgainstTheStateItsEarlierEventsProduce() throws {
        let test = try TestStore()
        let outcomes = try test.append([
            Events.captured("L-1"),
            Events.event(.leadQualified, "L-1", id: "q", at: "2026-03-02T00:00:00Z"),
            Events.event(.salesAccepted, "L-1", id: "too-early", at: "2026-03-03T00:00:00Z", actor: "ae"),
            Events.event(.leadHandedOff, "L-1", id: "h", at: "2026-03-03T00:00:00Z", actor: "mops", ["to": "ae"]),
            Events.event(.salesAccepted, "L-1", id: "a", at: "2026-03-04T00:00:00Z", actor: "ae"),
            Events.touch("L-2", id: "orphan", at: "2026-03-04T00:00:00Z"),
        ])
        #expect(outcomes[0...1].allSatisfy { $0.position != nil })
        guard case .rejected(let reason) = outcomes[2] else {
            Issue.record("accepting before the handoff was stored: \(outcomes[2])")
            return
        }
        #expect(reason.contains("lead L-1 in stage mql"))
        #expect(reason.contains("sales.accepted \"too-early\""))
        #expect(outcomes[3].position == 3)
        #expect(outcomes[4].position == 4)
        guard case .rejected(let orphan) = outcomes[5] else {
            Issue.record("a touch for an unknown lead was stored")
            return
        }
        #expect(orphan.contains("lead L-2 is unknown"))
        let state = try #require(try test.store.lead("L-1"))
        #expect(state.stage == .sal)
        #expect(state.owner == "ae")
        #expect(state.stages.map(\.position) == [1, 2, 4])
        #expect(try test.store.log.lastPosition == 4)
    }

    @Test func aLeadFoundNowhereIsKnownOnceItsCaptureIsApplied() throws {
        // The cache remembers the lead last found nowhere (a new lead's capture is looked for
        // when admitted and again when applied): once captured, the lead is known at once.
        let test = try TestStore()
        let outcomes = try test.append([
            Events.touch("L-9", id: "before", at: "2026-03-01T09:00:00Z"),
            Events.captured("L-9", id: "first"),
            Events.captured("L-9", id: "again"),
            Events.touch("L-9", id: "after", at: "2026-03-01T11:00:00Z"),
            Events.touch("L-8", id: "other", at: "2026-03-01T11:00:00Z"),
            Events.captured("L-8", id: "L-8 first"),
        ])
        #expect(outcomes.map { $0.position != nil } == [false, true, false, true, false, true])
        guard case .rejected(let reason) = outcomes[2] else {
            Issue.record("a second capture of a lead captured in the same batch was not refused: \(outcomes[2])")
            return
        }
        #expect(reason.contains("already captured"))
        let later = try test.append([Events.captured("L-9", id: "third"), Events.touch("L-8", id: "L-8 later", at: "2026-03-02T00:00:00Z")])
        #expect(later.map { $0.position != nil } == [false, true])
        #expect(try test.store.lead("L-9")?.touches == 1)
        #expect(try test.store.lead("L-8")?.touches == 1)
    }

    @Test func aRejectedEventDoesNotTakeItsIDSoAFixedCopyCanBeStoredLater() throws {
        let test = try TestStore()
        try test.append(Events.captured("L-1"))
        let early = Events.event(.salesAccepted, "L-1", id: "a", at: "2026-03-04T00:00:00Z", actor: "ae")
        #expect(try test.append(early).first?.position == nil)
        try test.append(Events.event(.leadQualified, "L-1", id: "q", at: "2026-03-02T00:00:00Z"),
                        Events.event(.leadHandedOff, "L-1", id: "h", at: "2026-03-03T00:00:00Z", actor: "mops", ["to": "ae"]))
        #expect(try test.append(early) == [.appended(position: 4)])
    }

    @Test func theRebuiltProjectionIsByteIdenticalToTheLiveOne() throws {
        let test = try TestStore()
        var events: [Envelope] = []
        Generator(leads: 300, seed: 3).generate { events.append($0) }
        // Several batches, so the live projection is built across many commits.
        for start in stride(from: 0, to: events.count, by: 700) {
            let outcomes = try test.append(Array(events[start..<min(start + 700, events.count)]))
            #expect(outcomes.allSatisfy { $0.position != nil })
        }
        let live = try test.store.projectionSnapshot()
        #expect(live.filter { $0.key.starts(with: Array("leads\u{0}".utf8)) }.count == 300)
        // In one chunk and in many (leads and new dimension values spread over several
        // write transactions), on one thread and on three.
        try expectRebuildsGive(live, in: test.store, events: events.count, chunks: [(100_000, Shards.count), (1_000, 3), (777, 1)])
    }

    /// Rebuilds the projections in chunks of each size on each number of shards, and expects
    /// every table of the projection to hold the bytes `live` holds.
    private func expectRebuildsGive(
        _ live: [(key: [UInt8], value: [UInt8])], in store: LeadStore, events: Int, chunks: [(size: UInt64, shards: Int)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for (chunkSize, shards) in chunks {
            let replayed = try store.rebuildProjections(chunkSize: chunkSize, shards: shards)
            #expect(replayed == UInt64(events), sourceLocation: sourceLocation)
            let rebuilt = try store.projectionSnapshot()
            let differing = zip(rebuilt, live).first { $0.key != $1.key || $0.value != $1.value }
            #expect(rebuilt.count == live.count, "chunks of \(chunkSize) on \(shards) shards", sourceLocation: sourceLocation)
            #expect(
                differing == nil,
                "chunks of \(chunkSize) on \(shards) shards: first differing row \(String(decoding: differing?.0.key ?? [], as: UTF8.self))",
                sourceLocation: sourceLocation)
        }
    }

    /// A replay writes each chunk while it applies the next one, so a lead changed in one
    /// chunk must be read from the cache, not the table, until that chunk's write is
    /// committed. With the leads' events interleaved, every lead is changed in many chunks,
    /// and often in a chunk, not the next, and again in the one after.
    @Test func aReplayOfInterleavedLeadsIsByteIdenticalToTheLiveProjection() throws {
        let test = try TestStore()
        var byLead: [String: [Envelope]] = [:]
        var order: [String] = []
        Generator(leads: 120, seed: 5).generate { event in
            if byLead[event.stream] == nil { order.append(event.stream) }
            byLead[event.stream, default: []].append(event)
        }
        // One event of each lead in turn (each lead's own events stay in their order).
        var events: [Envelope] = []
        var next = 0
        while events.count < byLead.values.reduce(0, { $0 + $1.count }) {
            for lead in order where next < byLead[lead]!.count { events.append(byLead[lead]![next]) }
            next += 1
        }
        for start in stride(from: 0, to: events.count, by: 500) {
            let outcomes = try test.append(Array(events[start..<min(start + 500, events.count)]))
            #expect(outcomes.allSatisfy { $0.position != nil })
        }
        let live = try test.store.projectionSnapshot()
        #expect(live.filter { $0.key.starts(with: Array("leads\u{0}".utf8)) }.count == 120)
        try expectRebuildsGive(live, in: test.store, events: events.count, chunks: [(61, 2), (150, 3)])
    }

    /// A new lead's stored profile is its capture's stored data, copied as it is: it must be
    /// exactly what encoding the profile gives, for JSONL lines that took the fast path too.
    @Test func everyStoredLeadStateAndJourneyIsTheEncodingOfItsDecodedSelf() throws {
        let test = try TestStore()
        let input = test.directory.file("events.jsonl")
        let lines = try Generator(leads: 200, seed: 11).write(to: input, limit: .max) { _ in }
        let summary = try Ingestor(store: test.store).ingest(path: input, rejects: RejectWriter(path: input + ".rejects"))
        #expect(summary.appended == lines)
        let prefix = Array("leads\u{0}".utf8)
        let rows = try test.store.projectionSnapshot().filter { $0.key.starts(with: prefix) }
        #expect(rows.count == 200)
        for row in rows {
            let lead = String(decoding: row.key.dropFirst(prefix.count), as: UTF8.self)
            let state = try row.value.withUnsafeBytes { try LeadStateCodec.decode($0, lead: lead) }
            #expect(!state.profile.isEmpty)
            #expect(LeadStateCodec.encode(state) == row.value, "lead \(lead)")
        }
        let journeyPrefix = Array("journeys\u{0}".utf8)
        let journeys = try test.store.projectionSnapshot().filter { $0.key.starts(with: journeyPrefix) }
        #expect(journeys.count == 200)
        for row in journeys {
            let journey = try row.value.withUnsafeBytes { try JourneyCodec.decode($0) }
            #expect(!journey.touches.isEmpty)
            #expect(JourneyCodec.encode(journey) == row.value, "journey of \(String(decoding: row.key.dropFirst(journeyPrefix.count), as: UTF8.self))")
        }
    }

    /// A rebuild builds the other generation of tables and swaps it in with one commit: one
    /// that fails (here on a corrupt record) leaves the projections in force, and the store
    /// opens and appends as before.
    @Test func aFailedRebuildLeavesTheProjectionsInForceAndTheStoreUsable() throws {
        let dir = TemporaryDirectory("failed-rebuild")
        let path = dir.file("store")
        var events: [Envelope] = []
        Generator(leads: 60, seed: 12).generate { events.append($0) }
        let store = try LeadStore(path: path)
        _ = try store.append(Array(events.dropLast(10)))
        try store.rebuildProjections()  // (in the other generation: both paths are exercised)
        let before = try store.projectionSnapshot()
        let eventsTable = try store.log.environment.table("events")
        try store.log.environment.write { txn in
            try UInt64(500).withBigEndianBytes { key in try [UInt8](repeating: 0xEE, count: 40).withUnsafeBytes { try txn.put(eventsTable, key: key, value: $0) } }
        }
        let failure = #expect(throws: (any Error).self) { try store.rebuildProjections() }
        #expect(String(describing: failure).contains("position 500"), "\(String(describing: failure))")
        #expect(try store.projectionSnapshot().map(\.value) == before.map(\.value))
        #expect(try store.projectionsAreCurrent)
        store.close()

        let reopened = try LeadStore(path: path)
        defer { reopened.close() }
        #expect(try reopened.projectionSnapshot().map(\.value) == before.map(\.value))
        _ = try reopened.append([Events.captured("L-after", at: "2026-09-01T00:00:00Z")])
        #expect(try reopened.lead("L-after") != nil)
    }

    @Test func aStoreWhoseProjectionIsBehindCatchesUpWhenOpened() throws {
        let dir = TemporaryDirectory("catchup")
        let path = dir.file("store")
        var live: [(key: [UInt8], value: [UInt8])] = []
        do {
            let store = try LeadStore(path: path)
            var events: [Envelope] = []
            Generator(leads: 50, seed: 9).generate { events.append($0) }
            _ = try store.append(events)
            live = try store.projectionSnapshot()
            // Simulate a store written before the projection existed: no state, no checkpoint.
            let leads = try store.log.environment.table("leads")
            try store.log.environment.write { txn in
                try txn.clear(leads)
                try store.log.setCheckpoint(store.projectionCheckpoint, to: 0, in: txn)
            }
            store.close()
        }
        let store = try LeadStore(path: path)
        defer { store.close() }
        #expect(try store.log.checkpoint(store.projectionCheckpoint) == store.log.lastPosition)
        #expect(try store.projectionSnapshot().map(\.value) == live.map(\.value))
    }

    @Test func asOfReadsTheLogWhileTheProjectionHasTheLatestState() throws {
        let test = try TestStore()
        try test.append([
            Events.captured("L-1", at: "2026-03-01T00:00:00Z"),
            Events.event(.leadQualified, "L-1", id: "q", at: "2026-03-05T00:00:00Z"),
            Events.touch("L-1", id: "late", at: "2026-02-20T00:00:00Z"),
        ])
        #expect(try test.store.lead("L-1")?.stage == .mql)
        let before = try #require(try test.store.lead("L-1", asOf: Events.at("2026-03-04T00:00:00Z")))
        #expect(before.stage == .lead)
        #expect(before.touches == 1)  // the late touch happened before the as-of time
        #expect(try test.store.lead("L-1", asOf: Events.at("2026-02-01T00:00:00Z")) == nil)
    }

    @Test func auditFiltersCombine() throws {
        let test = try TestStore()
        try test.append([
            Events.captured("L-1", at: "2026-03-01T00:00:00Z"),
            Events.captured("L-2", at: "2026-03-01T00:00:00Z"),
            Events.event(.leadQualified, "L-1", id: "q1", at: "2026-03-02T00:00:00Z"),
            Events.event(.leadQualified, "L-2", id: "q2", at: "2026-03-02T00:00:00Z"),
            Events.event(.leadHandedOff, "L-1", id: "h1", at: "2026-03-03T00:00:00Z", actor: "mops-a", ["to": "ae-1"]),
            Events.event(.leadHandedOff, "L-2", id: "h2", at: "2026-04-03T00:00:00Z", actor: "mops-a", ["to": "ae-2"]),
            Events.event(.salesAccepted, "L-1", id: "a1", at: "2026-03-04T00:00:00Z", actor: "ae-1"),
            Events.event(.salesRejected, "L-2", id: "r2", at: "2026-04-04T00:00:00Z", actor: "ae-2", ["reason": "not_fit"]),
        ])
        func ids(_ filter: AuditFilter) throws -> [String] {
            var ids: [String] = []
            try test.store.audit(filter) { ids.append($0.event.id) }
            return ids
        }
        #expect(try ids(AuditFilter(typePrefix: "lead.handed_off")) == ["h1", "h2"])
        #expect(try ids(AuditFilter(typePrefix: "sales.")) == ["a1", "r2"])
        #expect(try ids(AuditFilter(actor: "mops-a", since: Events.at("2026-04-01"))) == ["h2"])
        #expect(try ids(AuditFilter(lead: "L-1", typePrefix: "lead.")) == ["L-1-captured", "q1", "h1"])
        #expect(try ids(AuditFilter(actor: "ae-2", typePrefix: "sales.", since: Events.at("2026-04-01"), until: Events.at("2026-04-04T00:00:00Z"))) == [])
        #expect(try ids(AuditFilter(actor: "ae-2", typePrefix: "sales.", since: Events.at("2026-04-01"), until: Events.at("2026-04-05"))) == ["r2"])
    }

    @Test func aStoredEventWrittenInPlaceIsTheJSONOfItsDecodedSelf() throws {
        let test = try TestStore()
        let longKey = String(repeating: "k", count: 200)
        var events: [Envelope] = []
        Generator(leads: 40, seed: 9).generate { events.append($0) }
        events.append(Events.captured("L-\u{e9}\"q", at: "1970-01-01T00:00:00.000250Z", extra: [
            "note": "line\nbreak\t\"quoted\" \\ \u{1} \u{1F600}", "score": -12, "ratio": 0.1, "big": 1e300, "huge": 3_000_000_000,
            "nested": ["list": [1, "two", nil, true, false, ["deep": []]]], longKey: "long key", "": "empty",
        ]))
        events.append(Events.event(.leadQualified, "L-\u{e9}\"q", id: "q-1", at: "2026-03-01T10:00:00.123Z", actor: nil))
        let outcomes = try test.append(events)
        #expect(outcomes.suffix(2).allSatisfy { $0.position != nil }, "\(outcomes.suffix(2))")
        var direct: [String] = []
        let page = try test.store.scanStored(typePrefix: nil, after: 0, limit: 100_000) { event in
            var bytes: [UInt8] = []
            try event.writeJSON(into: &bytes)
            direct.append(String(decoding: bytes, as: UTF8.self))
        }
        var decoded: [String] = []
        try test.store.audit(AuditFilter()) { decoded.append(JSONWriter.render(LeadJSON.event($0))) }
        #expect(page.count == decoded.count && decoded.count > 100)
        #expect(direct == decoded)
        let qualified = try test.store.scanStored(typePrefix: "lead.qualified", after: 0, limit: 3) { #expect($0.type == .leadQualified) }
        #expect(qualified.count == 3)
        #expect(try test.store.scanStored(typePrefix: nil, after: .max, limit: 10) { _ in }.count == 0)
    }
}

@Suite("Generator")
struct GeneratorTests {
    @Test func theSameSeedGivesTheSameDataAndAnotherSeedOtherData() {
        var first: [String] = []
        var second: [String] = []
        var other: [String] = []
        Generator(leads: 200, seed: 11).generate { first.append(Events.line($0)) }
        Generator(leads: 200, seed: 11).generate { second.append(Events.line($0)) }
        Generator(leads: 200, seed: 12).generate { other.append(Events.line($0)) }
        #expect(first == second)
        #expect(first != other)
    }

    @Test func everyGeneratedEventIsValidAndAcceptedByTheLifecycle() throws {
        let test = try TestStore()
        var events: [Envelope] = []
        Generator(leads: 1_000, seed: 5).generate { events.append($0) }
        // Valid envelopes: each survives the JSON round trip through validation.
        for event in events.prefix(2_000) {
            #expect(try Envelope(json: JSONParser.parse(Events.line(event))) == event)
        }
        let outcomes = try test.append(events)
        let refused = outcomes.enumerated().filter { $0.element.position == nil }
        #expect(refused.isEmpty, "\(refused.prefix(3))")
        // About 20 events per lead, with every stage represented.
        let perLead = Double(events.count) / 1_000
        #expect(perLead > 12 && perLead < 30)
        let types = Set(events.map(\.type))
        for type in [EventType.leadCaptured, .leadHandedOff, .salesRejected, .opportunityOpened, .dealClosed, .touchWebinarAttended] {
            #expect(types.contains(type))
        }
        #expect(events.contains { $0.type.isTouch && $0.at < (try? test.store.lead($0.lead!)?.capturedAt) ?? $0.at })
    }
}
