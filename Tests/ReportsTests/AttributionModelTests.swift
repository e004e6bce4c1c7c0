import LeadDomain
import Reports
import Testing
import TestSupport

/// Hand-computed expectations for every model (SPEC section 5).
@Suite("Attribution models on small journeys")
struct AttributionModelTests {
    static func t(_ day: Int) -> Timestamp { Events.at("2026-03-01T00:00:00Z").adding(days: Double(day)) }

    static func path(_ days: [Int], created: Int, opportunity: Int? = nil, converted: Int) -> ConversionPath {
        ConversionPath(touches: days.map(t), createdAt: t(created), opportunityAt: opportunity.map(t), convertedAt: t(converted))
    }

    func credits(_ model: AttributionModel, _ path: ConversionPath) -> [Double] {
        Heuristics.credits(model, path).map { ($0 * 1e9).rounded() / 1e9 }
    }

    @Test(arguments: AttributionModel.allCases.filter { $0 != .markov })
    func aSingleTouchGetsEverything(model: AttributionModel) {
        #expect(credits(model, Self.path([3], created: 3, opportunity: 5, converted: 9)) == [1])
    }

    @Test func firstLastLinearAndLeadCreation() {
        let p = Self.path([0, 2, 5, 8], created: 5, opportunity: 8, converted: 10)
        #expect(credits(.firstTouch, p) == [1, 0, 0, 0])
        #expect(credits(.lastTouch, p) == [0, 0, 0, 1])
        #expect(credits(.linear, p) == [0.25, 0.25, 0.25, 0.25])
        #expect(credits(.leadCreation, p) == [0, 0, 1, 0])
        // Lead creation between touches: the touch last before the capture.
        #expect(credits(.leadCreation, Self.path([0, 2, 5], created: 4, converted: 9)) == [0, 1, 0])
    }

    @Test func uShapedGivesFortyFortyTwentyAndNothingAfterLeadCreation() {
        // first 0, LC = day 4 (index 2), between = index 1, after = index 3.
        #expect(credits(.uShaped, Self.path([0, 2, 4, 6], created: 4, converted: 9)) == [0.4, 0.2, 0.4, 0])
        // Two between: 10% each.
        #expect(credits(.uShaped, Self.path([0, 1, 2, 4], created: 4, converted: 9)) == [0.4, 0.1, 0.1, 0.4])
        // Nothing between: 50/50.
        #expect(credits(.uShaped, Self.path([0, 4, 7], created: 4, converted: 9)) == [0.5, 0.5, 0])
        // First touch is the lead-creation touch: it takes all.
        #expect(credits(.uShaped, Self.path([1, 3, 5], created: 2, converted: 9)) == [1, 0, 0])
    }

    @Test func wShapedSplitsThirtyThirtyThirtyTen() {
        // first 0, LC index 1, OC index 3, others 2 and 4 share 10%.
        #expect(credits(.wShaped, Self.path([0, 2, 3, 6, 8], created: 2, opportunity: 7, converted: 9)) == [0.3, 0.3, 0.05, 0.3, 0.05])
        // Only the three milestone touches: a third each.
        #expect(credits(.wShaped, Self.path([0, 2, 6], created: 2, opportunity: 6, converted: 9)).map { ($0 * 1e6).rounded() } == [333_333, 333_333, 333_333])
        // LC and OC on the same touch: it gets both shares (60/90 of the whole).
        let coinciding = credits(.wShaped, Self.path([0, 5], created: 5, opportunity: 6, converted: 9))
        #expect(coinciding.map { ($0 * 1e6).rounded() } == [333_333, 666_667])
    }

    @Test func fullPathCreditsTouchesAfterTheOpportunityToo() {
        // first 0, LC idx 1, OC idx 2, CW idx 4 (last), other idx 3 (after the opportunity).
        #expect(credits(.fullPath, Self.path([0, 2, 4, 6, 8], created: 2, opportunity: 5, converted: 9)) == [0.225, 0.225, 0.225, 0.1, 0.225])
        // Four milestones on four touches with nothing else: a quarter each.
        #expect(credits(.fullPath, Self.path([0, 2, 4, 8], created: 2, opportunity: 5, converted: 9)) == [0.25, 0.25, 0.25, 0.25])
    }

    @Test func positionBased() {
        #expect(credits(.positionBased, Self.path([0, 2, 4, 6], created: 0, converted: 9)) == [0.4, 0.1, 0.1, 0.4])
        #expect(credits(.positionBased, Self.path([0, 2], created: 0, converted: 9)) == [0.5, 0.5])
    }

    @Test func timeDecayHalvesPerHalfLife() {
        // 14, 7 and 0 days before the conversion: weights 1/4, 1/2, 1 → 1/7, 2/7, 4/7.
        let result = Heuristics.credits(.timeDecay, Self.path([0, 7, 14], created: 0, converted: 14), halfLifeDays: 7)
        #expect(zip(result, [1.0 / 7, 2.0 / 7, 4.0 / 7]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func aLatePreCaptureTouchIsTheFirstTouch() {
        // The touch on day -10 arrived after the capture (day 0) but happened before it.
        let journey = Self.path([-10, 0, 3], created: 0, opportunity: 3, converted: 5)
        #expect(credits(.firstTouch, journey) == [1, 0, 0])
        #expect(credits(.uShaped, journey) == [0.5, 0.5, 0])
        #expect(credits(.leadCreation, journey) == [0, 1, 0])
    }

    @Test func emptySharesSpreadInProportion() {
        #expect(Heuristics.distribute([(0.4, [0]), (0.4, [1]), (0.2, [])], count: 2) == [0.5, 0.5])
        #expect(Heuristics.distribute([(0.3, [0]), (0.3, [0]), (0.3, [1]), (0.1, [])], count: 2).map { ($0 * 1e9).rounded() } == [666_666_667, 333_333_333])
    }
}

@Suite("Markov removal effects in closed form")
struct MarkovTests {
    @Test func aSmallChainSolvedByHand() {
        // a > b converts once; b alone ends in null once.
        // P(conv) = 1/2. Without a: 1/4 (RE 1/2). Without b: 0 (RE 1). Credit a 1/3, b 2/3.
        let chain = MarkovChain(paths: [
            .init(channels: [0, 1], conversions: 1, value: 300, nulls: 0),
            .init(channels: [1], conversions: 0, value: 0, nulls: 1),
        ])
        let result = chain.solve()
        #expect(abs(result.conversionProbability - 0.5) < 1e-12)
        #expect(abs(result.removalEffects[0]! - 0.5) < 1e-12)
        #expect(abs(result.removalEffects[1]! - 1) < 1e-12)
        #expect(abs(result.conversions(0) - 1.0 / 3) < 1e-12)
        #expect(abs(result.value(1) - 200) < 1e-9)
    }

    @Test func aChainWithALoopAndTwoExits() {
        // Paths: a > b > a (conv ×2), a (null ×2), b (conv ×1, null ×1).
        // start→a 4/6, start→b 2/6; a→b 2/4, a→conv 2/4 ... solve by hand:
        // a: 2 times to b, 2 conv (end of a>b>a), 2 null (a alone) → p(a→b)=1/3, p(a→conv)=1/3, p(a→null)=1/3
        // b: 2 times to a, 1 conv, 1 null → p(b→a)=1/2, p(b→conv)=1/4, p(b→null)=1/4
        // x_a = 1/3 x_b + 1/3; x_b = 1/2 x_a + 1/4 → x_a = 1/6 x_a + 1/12 + 1/3 → x_a = 1/2, x_b = 1/2.
        // P = 4/6·1/2 + 2/6·1/2 = 1/2. Without a: x_b = 1/4 → P = 2/6·1/4 = 1/12, RE_a = 5/6.
        // Without b: x_a = 1/3 → P = 4/6·1/3 = 2/9, RE_b = 5/9.
        let chain = MarkovChain(paths: [
            .init(channels: [0, 1, 0], conversions: 2, value: 0, nulls: 0),
            .init(channels: [0], conversions: 0, value: 0, nulls: 2),
            .init(channels: [1], conversions: 1, value: 0, nulls: 1),
        ])
        let result = chain.solve()
        #expect(abs(result.conversionProbability - 0.5) < 1e-12)
        #expect(abs(result.removalEffects[0]! - 5.0 / 6) < 1e-12)
        #expect(abs(result.removalEffects[1]! - 5.0 / 9) < 1e-12)
    }

    @Test func higherOrdersGiveTheSameProbabilityOnTheseChains() {
        let paths: [MarkovChain.Path] = [
            .init(channels: [0, 1, 2], conversions: 3, value: 0, nulls: 1),
            .init(channels: [1, 2], conversions: 1, value: 0, nulls: 2),
            .init(channels: [2, 0], conversions: 0, value: 0, nulls: 3),
        ]
        // Without shared prefixes the order-2 chain still reproduces each path's outcome rates.
        let second = MarkovChain(paths: paths, order: 2).solve()
        #expect(abs(second.conversionProbability - 4.0 / 10) < 1e-12)
        #expect(second.removalEffects.keys.sorted() == [0, 1, 2])
        // Deterministic: solving twice gives the same numbers.
        #expect(MarkovChain(paths: paths, order: 2).solve() == second)
    }
}
