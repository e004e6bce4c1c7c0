import EventLog
import Foundation
import LeadDomain
import LedgerJSON
import LMDB

/// What `rescore` found: how qualification would differ under other rules.
public struct RescoreReport: Sendable, Equatable {
    public struct Move: Sendable, Equatable {
        public var lead: String
        public var from: Timestamp
        public var to: Timestamp
    }

    public struct Bucket: Sendable, Equatable {
        public var label: String
        /// Leads in the bucket under the rules in force (nil: no rules yet) and the new rules.
        public var current: Int?
        public var proposed: Int
    }

    public var rulesVersion: String
    public var baseVersion: String?
    public var newlyQualified: [String]
    public var noLongerQualified: [String]
    public var moved: [Move]
    public var leads: Int
    /// Leads that are MQLs at some point, now and under the new rules.
    public var qualifiedNow: Int
    public var qualifiedProposed: Int
    public var distribution: [Bucket]
    /// The time scores are evaluated at for the distribution.
    public var asOf: Timestamp
}

extension LeadStore {
    // MARK: Replaying under other rules

    /// Positions a rescore reads per walk (as many as a replay's chunk).
    static let rescoreChunk: UInt64 = 50_000

    /// Replays the whole log as if `rules` had been in force from the start — lifecycle and
    /// live scoring included, the engine's own `lead.qualified` (by rules) and earlier
    /// `rules.published` left out — and compares each lead's first qualification with the
    /// live history's. Reads the log in chunks; keeps one compact state per lead; touches
    /// nothing.
    /// `asOf` is when the score distribution is evaluated; by default the time of the log's
    /// latest lead event, so that the same log always gives the same report.
    public func rescore(with rules: ScoringRules, asOf requested: Timestamp? = nil) throws -> RescoreReport {
        let scorer = Scorer(rules)
        // Shards of leads, simulated on every core, the log read in chunks of positions (see
        // `ShardedWalk`).
        let environment = log.environment
        let walk = ShardedWalk(environment: environment, reader: log.reader, shards: Shards.count)
        let shards = (0..<walk.shards).map { _ in RescoreShard(LiveScorer(scorer), reader: log.reader) }
        let last = try log.lastPosition
        var next: UInt64 = 1
        while next <= last {
            let end = last - next >= Self.rescoreChunk ? next + Self.rescoreChunk - 1 : last
            try walk.run(from: next, through: end) { shard, records, txn in
                let simulation = shards[shard]
                try records.forEach { try simulation.apply($0, in: txn) }
            }
            // Keep the scan's footprint flat: the pages just read need not stay mapped.
            environment.releaseMappedPages()
            next = end + 1
        }
        var simulated: [String: ScoredLead] = [:]
        var latest = Timestamp(microseconds: .min)
        for shard in shards {
            // (A lead merged away is its survivor's now: counted there.)
            for (lead, simulatedLead) in shard.simulated.all where simulatedLead.state.mergedInto == nil { simulated[lead] = simulatedLead }
            latest = max(latest, shard.latest)
        }

        let time = requested ?? (latest.microseconds == .min ? .now : latest)
        let base = try currentRules()
        let baseScorer = base.map(Scorer.init)
        // Rules that change only the threshold, decay or behavior (the usual what-if) give
        // every profile the fit points the simulation computed already.
        let sameFit = base.map { Self.sameFitPoints($0.fit, rules.fit) } ?? false
        var newly: [String] = []
        var noLonger: [String] = []
        var moved: [RescoreReport.Move] = []
        var qualifiedNow = 0
        var qualifiedProposed = 0
        var currentScores: [Double] = []
        var proposedScores: [Double] = []
        // The live states are read without their profiles: a lead's profile is the same in
        // the simulation (profile events are never refused), so the base fit comes from there.
        try forEachLead(profile: false) { live in
            let simulatedLead = simulated[live.lead]
            let proposed = simulatedLead?.state
            let before = live.firstQualifiedAt
            let after = proposed?.firstQualifiedAt
            if before != nil { qualifiedNow += 1 }
            if after != nil { qualifiedProposed += 1 }
            switch (before, after) {
            case (nil, .some): newly.append(live.lead)
            case (.some, nil): noLonger.append(live.lead)
            case (.some(let from), .some(let to)) where from != to: moved.append(.init(lead: live.lead, from: from, to: to))
            default: break
            }
            if let baseScorer {
                let fit: Double
                if sameFit, let simulatedLead {
                    fit = try simulatedLead.fitPoints(under: scorer)
                } else {
                    try simulatedLead?.loadProfile()
                    fit = baseScorer.fitPoints(try simulatedLead?.state.profile ?? lead(live.lead)?.profile ?? [:])
                }
                currentScores.append(baseScorer.evaluate(fit: fit, matches: live.matches, at: time).score)
            }
            if let simulatedLead {
                proposedScores.append(scorer.evaluate(fit: try simulatedLead.fitPoints(under: scorer), matches: simulatedLead.state.matches, at: time).score)
            }
        }
        return RescoreReport(
            rulesVersion: rules.version, baseVersion: base?.version,
            newlyQualified: newly, noLongerQualified: noLonger, moved: moved,
            leads: simulated.count, qualifiedNow: qualifiedNow, qualifiedProposed: qualifiedProposed,
            distribution: Self.distribution(current: base == nil ? nil : currentScores, proposed: proposedScores, threshold: rules.mqlThreshold),
            asOf: time)
    }


    /// Whether two lists of fit rules give every profile the same points (names and labels
    /// aside).
    static func sameFitPoints(_ one: [FitRule], _ other: [FitRule]) -> Bool {
        one.count == other.count && zip(one, other).allSatisfy { $0.field == $1.field && $0.condition == $1.condition && $0.points == $1.points }
    }

    /// Score buckets of 20 points around the new threshold.
    static func distribution(current: [Double]?, proposed: [Double], threshold: Double) -> [RescoreReport.Bucket] {
        let edges = stride(from: -2, through: 2, by: 1).map { threshold + Double($0) * 20 }
        func label(_ index: Int) -> String {
            if index == 0 { return "< \(JSONWriter.render(.number(edges[0])))" }
            if index == edges.count { return "≥ \(JSONWriter.render(.number(edges[edges.count - 1])))" }
            return "\(JSONWriter.render(.number(edges[index - 1]))) – \(JSONWriter.render(.number(edges[index])))"
        }
        func counts(_ scores: [Double]) -> [Int] {
            var counts = Array(repeating: 0, count: edges.count + 1)
            for score in scores { counts[edges.firstIndex { score < $0 } ?? edges.count] += 1 }
            return counts
        }
        let proposedCounts = counts(proposed)
        let currentCounts = current.map(counts)
        return (0...edges.count).map { RescoreReport.Bucket(label: label($0), current: currentCounts?[$0], proposed: proposedCounts[$0]) }
    }
}
