import EventLog
import Foundation
import LeadDomain
import LeadEngine
import LedgerJSON
import Testing
import TestSupport

@Suite("The generator: a believable period, and histories consistent with live scoring")
struct GeneratedHistoryTests {
    static let end = Events.at("2026-05-14T10:23:45Z")

    static func events(_ generator: Generator) -> [Envelope] {
        var events: [Envelope] = []
        generator.generate { events.append($0) }
        return events
    }

    @Test func nothingHappensAfterTheEndAndCapturesSpreadOverThePeriodWithoutACliff() throws {
        let generator = Generator(leads: 3_000, seed: 3, end: Self.end, days: 365)
        #expect(generator.start == Self.end.adding(days: -365))
        let events = Self.events(generator)
        #expect(events.allSatisfy { $0.at <= Self.end })
        // Touches before a capture (anonymous history) never predate the history either.
        #expect(events.allSatisfy { $0.at >= generator.start })
        let captures = events.filter { $0.type == .leadCaptured }
        #expect(captures.count == 3_000)
        // Lead ids follow capture time.
        #expect(captures.map(\.at) == captures.map(\.at).sorted())

        // Every whole month of the period has captures, none far below the mean: seasonality,
        // no cliff. (The first and last months are partial.)
        var months: [String: Int] = [:]
        for capture in captures { months[capture.at.yearMonth, default: 0] += 1 }
        let whole = months.keys.sorted().dropFirst().dropLast()
        #expect(whole.count == 11)
        let mean = Double(whole.reduce(0) { $0 + months[$1]! }) / Double(whole.count)
        for month in whole {
            #expect(Double(months[month]!) > 0.5 * mean && Double(months[month]!) < 1.6 * mean, "\(month): \(months[month]!) captures, mean \(mean)")
        }
        // The last weeks are as busy as the year: leads keep coming up to the end.
        let lastMonth = captures.filter { $0.at > Self.end.adding(days: -30) }.count
        #expect(Double(lastMonth) > 0.7 * mean)

        // Weekdays and business hours.
        let weekend = captures.filter { capture in
            let day = capture.at.microseconds / Timestamp.microsecondsPerDay
            return (day + 4) % 7 == 0 || (day + 4) % 7 == 6  // Sunday, Saturday
        }.count
        #expect(Double(weekend) < 0.15 * Double(captures.count))
        #expect(captures.allSatisfy { (6...20).contains($0.at.components.hour) })

        // Deals are won in every quarter after the first (the first leads need a sales cycle)
        // up to the end, not only in the first half.
        let won = events.filter { $0.type == .dealClosed && $0.data["outcome"] == "won" }
        for quarter in 1..<4 {
            let from = generator.start.adding(days: 91 * Double(quarter)), to = from.adding(days: 91)
            #expect(won.contains { $0.at >= from && $0.at < to }, "no deal won in quarter \(quarter + 1)")
        }
    }

    @Test func theDefaultEndIsFixedSoASeedAlwaysGivesTheSameEvents() throws {
        #expect(Generator(leads: 10).end == Generator.defaultEnd)
        #expect(Generator.defaultEnd == Events.at("2026-09-01T00:00:00Z"))
        let first = Self.events(Generator(leads: 200, seed: 5))
        #expect(first == Self.events(Generator(leads: 200, seed: 5)))
        #expect(first.allSatisfy { $0.at <= Generator.defaultEnd })
        let other = Self.events(Generator(leads: 200, seed: 5, end: Self.end))
        #expect(other.allSatisfy { $0.at <= Self.end })
        #expect(other != first)
        // About 20 events a lead for the bench's data set (the first half of the period).
        let bench = Self.events(Generator(leads: 4_000, seed: 1)).prefix { $0.lead.map { $0 <= "L-002000" } ?? true }
        let perLead = Double(bench.count) / 2_000
        #expect(perLead > 18 && perLead < 22, "\(perLead) events a lead")
    }

    /// The demo's case: rules published before the history is ingested. Live scoring then
    /// qualifies leads during the ingest; the generated history hands those off after the
    /// engine's qualification and qualifies by hand only the others, so nothing is refused.
    @Test func aHistoryForRulesIsIngestedUnderThemWithoutARejectAndEveryHandoffIsStamped() throws {
        let rules = try RulesDocument.parse(ExampleRules.spec, path: "spec.yaml")
        var generator = Generator(leads: 1_500, seed: 8, end: Self.end)
        generator.rules = rules
        let events = Self.events(generator)
        // The history begins with the rules' publication, at its start.
        let head = try #require(events.first)
        #expect(head.type == .rulesPublished)
        #expect(head.id == "rules:2026-11-a")
        #expect(head.at == generator.start)
        #expect(!events.dropFirst().contains { $0.type == .rulesPublished })
        #expect(events.allSatisfy { $0.at <= Self.end })

        let test = try TestStore("generated-with-rules")
        let outcomes = try test.append(events)
        let refused = outcomes.compactMap { outcome -> String? in
            if case .rejected(let reason) = outcome { return reason }
            return nil
        }
        #expect(refused.isEmpty, "\(refused.prefix(3))")

        var byRules = 0, byHand = 0, handoffs = 0
        var qualifiedAt: [String: Timestamp] = [:]
        try test.store.audit(AuditFilter(typePrefix: "lead.")) { row in
            if row.event.type == .leadQualified {
                if row.event.data["by"] == "rules" { byRules += 1 } else { byHand += 1 }
                qualifiedAt[row.event.lead ?? ""] = row.event.at
            }
            if row.event.type == .leadHandedOff {
                handoffs += 1
                #expect(row.event.data["rulesVersion"] == "2026-11-a")
                #expect(row.event.data["score"]?.doubleValue != nil)
                // Handed off after the lead became an MQL.
                let mql = try #require(qualifiedAt[row.event.lead ?? ""])
                #expect(mql <= row.event.at)
            }
        }
        // Most MQLs come from the rules; marketing still qualifies some by hand.
        #expect(byRules > 2 * byHand && byHand > 0)
        #expect(handoffs > 0 && handoffs <= byRules + byHand)
        // Ingesting the same history under the rules again stores nothing twice.
        #expect(try test.append(events).allSatisfy { $0.position == nil })
    }

    @Test func aHistoryForRulesCanLeaveThePublicationToTheCaller() throws {
        var generator = Generator(leads: 50, seed: 2)
        generator.rules = try RulesDocument.parse(ExampleRules.spec, path: "spec.yaml")
        generator.beginsWithRules = false
        let events = Self.events(generator)
        #expect(events.first?.type == .leadCaptured)
        #expect(!events.contains { $0.type == .rulesPublished })
    }
}
