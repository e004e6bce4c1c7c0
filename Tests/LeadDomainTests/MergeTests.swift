import LeadDomain
import LedgerJSON
import Testing
import TestSupport

@Suite("Merge: the more advanced stage, profiles, the stored pointer")
struct MergeTests {
    static func lead(_ id: String, _ stage: Stage, at time: String, profile: JSONObject = [:], position: UInt64) -> LeadState {
        var state = LeadState(lead: id, capturedAt: Events.at(time))
        state.stage = stage
        state.profile = profile
        state.stages = [StageChange(stage: stage, at: Events.at(time), type: .leadCaptured, actor: nil, position: position)]
        return state
    }

    @Test func theMoreAdvancedStageWinsAndATieKeepsTheSurvivors() {
        var survivor = Self.lead("a", .disqualified, at: "2026-03-02T00:00:00Z", profile: ["email": "a@x.com"], position: 2)
        Merge.absorb(Self.lead("b", .lead, at: "2026-03-01T00:00:00Z", profile: ["email": "b@x.com", "phone": "1"], position: 1), into: &survivor)
        #expect(survivor.stage == .disqualified)
        #expect(survivor.profile == ["email": "a@x.com", "phone": "1"])
        #expect(survivor.stages.map(\.position) == [1, 2])
        // The current stage's entry is the winner's, though the loser's came later.
        Merge.absorb(Self.lead("c", .sql, at: "2026-02-01T00:00:00Z", position: 3), into: &survivor)
        #expect(survivor.stage == .sql)
        #expect(survivor.stageEnteredAt == Events.at("2026-02-01T00:00:00Z"))
        #expect(survivor.capturedAt == Events.at("2026-02-01T00:00:00Z"))
        #expect(Merge.advancement(.lost) < Merge.advancement(.customer))
    }

    @Test func aMergedLeadsPointerIsStoredAndOtherRowsKeepTheirBytes() throws {
        var state = Self.lead("b", .mql, at: "2026-03-01T00:00:00Z", profile: ["email": "b@x.com"], position: 1)
        let before = LeadStateCodec.encode(state)
        state.mergedInto = "a"
        let after = LeadStateCodec.encode(state)
        #expect(Array(after.prefix(before.count)) == before)
        let decoded = try after.withUnsafeBytes { try LeadStateCodec.decode($0, lead: "b") }
        #expect(decoded == state)
        #expect(try before.withUnsafeBytes { try LeadStateCodec.decode($0, lead: "b") }.mergedInto == nil)
    }

    @Test func refusalsNameTheLeadsAndWhy() {
        let customerA = { var s = Self.lead("a", .customer, at: "2026-03-01T00:00:00Z", position: 1); s.opportunity = "o-1"; return s }()
        let customerB = { var s = Self.lead("b", .customer, at: "2026-03-01T00:00:00Z", position: 2); s.opportunity = "o-2"; return s }()
        let reason = Merge.refusal(id: "m", duplicate: "b", into: "a", survivorState: customerA, duplicateState: customerB, resolve: { $0 })
        #expect(reason == "lead.merged \"m\" refused: cannot merge lead b into lead a: both are customers with different won opportunities (o-1 and o-2); two won deals are two conversions, not one person to merge")
        var sameDeal = customerB
        sameDeal.opportunity = "o-1"
        #expect(Merge.refusal(id: "m", duplicate: "b", into: "a", survivorState: customerA, duplicateState: sameDeal, resolve: { $0 }) == nil)
    }
}
