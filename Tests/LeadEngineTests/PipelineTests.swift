import Dispatch
import EventLog
import Foundation
import LeadDomain
@testable import LeadEngine
import LedgerJSON
import Testing
import TestSupport

/// The writer prepares the next group of appends while the previous one commits: the lead
/// projection then judges and projects leads whose last events are not committed yet. These
/// tests keep many small groups in flight and check that the result is what a rebuild from
/// the log gives, byte for byte.
@Suite("Pipelined appends: groups prepared while earlier ones commit")
struct PipelineTests {
    /// Ingest in batches far smaller than a lead's history, so that nearly every lead's
    /// events span several groups, and up to four batches wait at the writer.
    @Test func aPipelinedIngestLeavesTheProjectionARebuildGives() throws {
        let test = try TestStore()
        let input = test.directory.file("events.jsonl")
        let lines = try Generator(leads: 300, seed: 41).write(to: input, limit: .max) { _ in }
        let ingestor = Ingestor(store: test.store, batchSize: 37)
        let commitsBefore = test.store.log.commits
        let summary = try ingestor.ingest(path: input, rejects: RejectWriter(path: input + ".rejects"))
        #expect(summary.appended == lines)
        #expect(summary.rejected == 0)
        // Many commits: the groups were small, so leads crossed group boundaries.
        #expect(test.store.log.commits - commitsBefore > 20)
        #expect(try test.store.log.verify().isValid)

        // The cache of leads lets go of those whose groups are committed: what is left is
        // the last few groups' leads, not every lead of the input.
        let cached = try #require(test.store.lifecycle).cachedLeadCount
        #expect(cached > 0 && cached <= 4 * 37, "\(cached) leads cached")

        let live = try test.store.projectionSnapshot()
        try test.store.rebuildProjections()
        let rebuilt = try test.store.projectionSnapshot()
        #expect(rebuilt.count == live.count)
        let differing = zip(rebuilt, live).first { $0.key != $1.key || $0.value != $1.value }
        #expect(differing == nil, "first differing row: \(String(decoding: differing?.0.key ?? [], as: UTF8.self))")
    }

    /// Appends queued without waiting, with the rules published halfway (a group the writer
    /// runs alone, once everything before it is committed), decide exactly what the same
    /// appends made one at a time decide: the same log, derived qualifications and handoff
    /// stamps included.
    @Test func queuedAppendsWithRulesPublishedHalfwayMatchAppendsMadeOneAtATime() throws {
        let events = generated(250, seed: 43)
        let rules = try specRules()
        let publish = Envelope(
            id: "rules:\(rules.version)", type: .rulesPublished, lead: nil,
            at: try #require(Timestamp(rfc3339: "2026-06-01T00:00:00Z")), actor: "mops", data: rules.document)
        var batches = stride(from: 0, to: events.count, by: 53).map { Array(events[$0..<min($0 + 53, events.count)]) }
        batches.insert([publish], at: batches.count / 2)

        let queued = try TestStore("queued")
        let done = DispatchGroup()
        let failures = Failures()
        for batch in batches {
            done.enter()
            queued.store.log.submit(batch.map(LeadStore.pending)) { result in
                if case .failure(let error) = result { failures.add("\(error)") }
                done.leave()
            }
        }
        done.wait()
        #expect(failures.all.isEmpty)
        #expect(try queued.store.log.verify().isValid)

        let oneByOne = try TestStore("one-by-one")
        for batch in batches { _ = try oneByOne.append(batch) }

        func contents(_ log: EventLog) throws -> [String] {
            try log.records(from: 1, limit: .max).map { "\($0.position) \($0.id) \($0.stream) \($0.payload)" }
        }
        let log = try contents(queued.store.log)
        #expect(log == (try contents(oneByOne.store.log)))
        // The rules qualified leads live: the log holds the events they derived, after them.
        let rulesPosition = try #require(try queued.store.log.position(ofID: publish.id))
        let derived = log.filter { $0.split(separator: " ")[1].hasSuffix("#mql") }.compactMap { UInt64($0.split(separator: " ")[0]) }
        #expect(!derived.isEmpty)
        #expect(derived.allSatisfy { $0 > rulesPosition })

        // Which leads a publish rescores at once depends on how requests were grouped (the
        // leads its own transaction touched); the refresh that follows a publish through the
        // store (`publishRules`, `ingest`) rescores the rest. After it, both agree.
        #expect(try queued.store.refreshScoresIfNeeded())
        #expect(try oneByOne.store.refreshScoresIfNeeded())
        let live = try queued.store.projectionSnapshot()
        let reference = try oneByOne.store.projectionSnapshot()
        #expect(live.count == reference.count)
        let differing = zip(live, reference).first { $0.key != $1.key || $0.value != $1.value }
        #expect(differing == nil, "first differing row: \(String(decoding: differing?.0.key ?? [], as: UTF8.self))")
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String] = []

    func add(_ reason: String) {
        lock.lock()
        reasons.append(reason)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return reasons
    }
}
