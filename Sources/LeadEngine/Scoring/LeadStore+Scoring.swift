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

/// A lead in a rescore's simulation, mutated in place (a class: no copies of its arrays per
/// event).
final class SimulatedLead {
    var state: LeadState
    /// Fit points of the current profile (recomputed when the profile changes).
    var fit: Double
    /// Whether any matched rule has negative points: only then can a score rise as
    /// time passes (a penalty decays), so only then must a touch that matched
    /// nothing be evaluated.
    var hasPenalty = false
    /// A time T at which the lead was evaluated below the threshold with every match
    /// counted (T ≥ every match's time), in its current stage and profile. Without a
    /// new match or a penalty, its score at any later time is no higher, so touches
    /// evaluated at or after T can be skipped. Reset by anything that changes the lead
    /// otherwise.
    var settledAt: Timestamp?
    var latestMatch = Timestamp(microseconds: .min)

    /// The profile as the capture's stored data, while `state.profile` is left empty: only
    /// an enrichment (or a fit under other rules) needs it decoded (`loadProfile`).
    private var encodedProfile: [UInt8]?

    init(_ state: LeadState, fit: Double) {
        self.state = state
        self.fit = fit
    }

    /// A lead captured by `view` (its data is the profile, kept encoded until needed).
    init(captured view: EventView, lead: String, position: UInt64, scorer: Scorer) {
        state = Lifecycle.captured(lead: lead, at: view.at, actor: view.actor, hasChannel: view.hasChannel(view.touchFields), position: position)
        fit = scorer.fitPoints(view)
        encodedProfile = Array(view.encodedData)
    }

    /// Gives `state.profile` its value, if it was left encoded.
    func loadProfile() throws {
        guard let encodedProfile else { return }
        state.profile = try encodedProfile.withUnsafeBytes { try EventCodec.decodeObject($0) }
        self.encodedProfile = nil
    }

    /// `state.stageEnteredAt`, read from the stored fields: calling a getter of `state`
    /// itself copies the whole state out of the object (a retain and release per field).
    var stageEnteredAt: Timestamp {
        state.stages.last?.at ?? state.capturedAt
    }
}

extension LeadStore {
    // MARK: Publishing

    /// Appends `rules.published` (its id is `rules:<version>`, so a version is published
    /// once) and rescores every lead under the new rules.
    @discardableResult
    public func publishRules(_ rules: ScoringRules, actor: String, at time: Timestamp) throws -> AppendOutcome {
        let event = Envelope(id: "rules:\(rules.version)", type: .rulesPublished, lead: nil, at: time, actor: actor, data: rules.document)
        let outcome = try append([event])[0]
        try refreshScoresIfNeeded()
        return outcome
    }

    // MARK: Reading scores

    /// A lead's score now (from its projected state) or as of a past time (from its events up
    /// to then), under the rules in force. `nil` when no rules are published.
    public func score(of lead: String, asOf time: Timestamp? = nil, explain: Bool = false) throws -> ScoreBreakdown? {
        guard let rules = try currentRules() else { return nil }
        let scorer = Scorer(rules)
        if let time {
            let history = try self.history(of: lead).map { (position: $0.position, event: $0.event) }
            let upTo = history.filter { $0.event.at <= time }
            guard let state = Lifecycle.state(of: upTo, asOf: time) else { return nil }
            return scorer.evaluate(profile: state.profile, matches: scorer.matches(of: upTo), at: time, explain: explain)
        }
        guard let state = try self.lead(lead) else { return nil }
        let matches = state.rulesVersion == rules.version
            ? state.matches
            : scorer.matches(of: try history(of: lead).map { (position: $0.position, event: $0.event) })
        return scorer.evaluate(profile: state.profile, matches: matches, at: Timestamp.now, explain: explain)
    }

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
        let shards = (0..<walk.shards).map { _ in RescoreShard(rules: rules, scorer: scorer) }
        let last = try log.lastPosition
        var next: UInt64 = 1
        while next <= last {
            let end = last - next >= Self.rescoreChunk ? next + Self.rescoreChunk - 1 : last
            try walk.run(from: next, through: end) { shard, records, _ in
                let simulation = shards[shard]
                try records.forEach { try simulation.apply($0) }
            }
            // Keep the scan's footprint flat: the pages just read need not stay mapped.
            environment.releaseMappedPages()
            next = end + 1
        }
        var simulated: [String: SimulatedLead] = [:]
        var latest = Timestamp(microseconds: .min)
        for shard in shards {
            for (lead, simulatedLead) in shard.simulated.all { simulated[lead] = simulatedLead }
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
                    fit = simulatedLead.fit
                } else {
                    try simulatedLead?.loadProfile()
                    fit = baseScorer.fitPoints(try simulatedLead?.state.profile ?? lead(live.lead)?.profile ?? [:])
                }
                currentScores.append(baseScorer.evaluate(fit: fit, matches: live.matches, at: time).score)
            }
            if let simulatedLead {
                proposedScores.append(scorer.evaluate(fit: simulatedLead.fit, matches: simulatedLead.state.matches, at: time).score)
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

    /// `rescore --apply`: publishes the rules (history stays as it is), rescores every lead,
    /// and qualifies now the leads in `lead` or `recycled` whose score now reaches the
    /// threshold. Returns the leads it qualified.
    public func apply(_ rules: ScoringRules, actor: String, at time: Timestamp) throws -> [String] {
        let published = try publishRules(rules, actor: actor, at: time)
        if case .duplicate = published {
            throw ScoringError.alreadyPublished(version: rules.version)
        }
        let scorer = Scorer(rules)
        var qualify: [Envelope] = []
        try forEachLead { state in
            guard state.stage == .lead || state.stage == .recycled else { return }
            let score = scorer.evaluate(profile: state.profile, matches: state.matches, at: time).score
            guard score >= rules.mqlThreshold else { return }
            qualify.append(Envelope(
                id: "rules:\(rules.version)#mql:\(state.lead)", type: .leadQualified, lead: state.lead, at: time,
                actor: LiveScoring.actor, data: ["score": .number(score), "rulesVersion": .string(rules.version), "by": "rules"]))
        }
        var qualified: [String] = []
        for start in stride(from: 0, to: qualify.count, by: 10_000) {
            let batch = Array(qualify[start..<min(start + 10_000, qualify.count)])
            for (event, outcome) in zip(batch, try append(batch)) where outcome.position != nil {
                qualified.append(event.lead!)
            }
        }
        return qualified
    }

    /// Calls `body` with every projected lead state in id order, reading in chunks.
    public func forEachLead(profile: Bool = true, _ body: (LeadState) throws -> Void) throws {
        var after: [UInt8]?
        while true {
            let chunk: [(String, [UInt8])] = try log.environment.read { txn in
                try txn.withCursor(leads) { cursor in
                    var rows: [(String, [UInt8])] = []
                    var entry = try after.map { key in try key.withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    if let current = entry, let after, Array(current.key) == after { entry = try cursor.next() }
                    while let current = entry, rows.count < 4_096 {
                        rows.append((String(decoding: current.key, as: UTF8.self), Array(current.value)))
                        entry = try cursor.next()
                    }
                    return rows
                }
            }
            log.environment.releaseMappedPages()
            guard let last = chunk.last else { return }
            for (lead, bytes) in chunk {
                try body(try bytes.withUnsafeBytes { try LeadStateCodec.decode($0, lead: lead, profile: profile) })
            }
            after = Array(last.0.utf8)
        }
    }
}

public enum ScoringError: Error, CustomStringConvertible, Equatable {
    case alreadyPublished(version: String)

    public var description: String {
        switch self {
        case .alreadyPublished(let version):
            return "rules version \(version) was already published; give the changed document a new version"
        }
    }
}

extension Timestamp {
    /// The current time, to the microsecond.
    public static var now: Timestamp {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }
}

/// One shard of a rescore's simulation: the lifecycle and live scoring of its leads under
/// other rules, fed their records in log order.
final class RescoreShard {
    let rules: ScoringRules
    let scorer: Scorer
    /// The time of the latest lead event seen.
    private(set) var latest = Timestamp(microseconds: .min)
    let simulated = LeadTable<SimulatedLead>()
    /// The lead last looked up by its bytes.
    private var recent = RecentLead<SimulatedLead>()

    init(rules: ScoringRules, scorer: Scorer) {
        self.rules = rules
        self.scorer = scorer
    }

    // After a lead event other than a touch: its penalties, latest match, and whether it
    // qualifies now.
    private func settle(_ current: SimulatedLead, after type: EventType, at: Timestamp, id: String, lead: String, position: UInt64) {
        if current.state.matches.contains(where: { rules.behavior[$0.rule].points < 0 }) { current.hasPenalty = true }
        current.latestMatch = max(current.latestMatch, current.state.matches.last?.at ?? current.latestMatch)
        current.settledAt = nil
        if LiveScoring.triggers(type), let qualification = LiveScoring.qualification(
            at: at, stage: current.state.stage, enteredAt: current.stageEnteredAt, matches: current.state.matches,
            fit: current.fit, scorer: scorer) {
            let derived = LiveScoring.qualifiedEvent(lead: lead, trigger: id, score: qualification.score, at: qualification.at, rulesVersion: rules.version)
            Lifecycle.apply(derived, position: position, to: &current.state)
        }
    }

    /// Applies the next of the shard's records.
    func apply(_ record: RecordView) throws {
        let view = try EventView(record.payload)
        if view.type != .rulesPublished && view.at > latest { latest = view.at }
        if view.type.isTouch {
            // Most of the log: applied without decoding the touch's data.
            let lead: SimulatedLead
            if let found = recent.value(record.stream) {
                lead = found
            } else {
                guard let found = simulated.value(record.stream, hash: LeadTable<SimulatedLead>.hash(record.stream)) else { return }
                recent.remember(found, as: record.stream)
                lead = found
            }
            Lifecycle.applyTouch(at: view.at, to: &lead.state)
            let before = lead.state.matches.count
            scorer.record(view, position: record.position, into: &lead.state.matches)
            let matched = lead.state.matches.count > before
            if matched {
                lead.latestMatch = max(lead.latestMatch, view.at)
                if lead.state.matches.contains(where: { rules.behavior[$0.rule].points < 0 }) { lead.hasPenalty = true }
            }
            let stage = lead.state.stage
            let enteredAt = lead.stageEnteredAt
            let time = max(view.at, enteredAt)
            if !matched, !lead.hasPenalty, let settled = lead.settledAt, time >= settled { return }
            let qualification = LiveScoring.qualification(
                at: view.at, stage: stage, enteredAt: enteredAt, matches: lead.state.matches, fit: lead.fit, scorer: scorer)
            if qualification == nil, stage == .lead || stage == .recycled, time >= lead.latestMatch {
                // A new match invalidates an earlier settled time: only this evaluation
                // counted it.
                lead.settledAt = matched ? time : max(lead.settledAt ?? time, time)
            } else if matched {
                lead.settledAt = nil
            }
            if let qualification {
                lead.settledAt = nil
                let derived = LiveScoring.qualifiedEvent(lead: lead.state.lead, trigger: record.idString, score: qualification.score, at: qualification.at, rulesVersion: rules.version)
                Lifecycle.apply(derived, position: record.position, to: &lead.state)
            }
            return
        }
        if view.type == .leadCaptured {
            // A new lead, read in place (a capture of a known lead is refused).
            let lead = record.streamString
            let hash = LeadTable<SimulatedLead>.hash(lead)
            guard simulated.value(lead, hash: hash) == nil else { return }
            let current = SimulatedLead(captured: view, lead: lead, position: record.position, scorer: scorer)
            simulated.set(current, for: lead, hash: hash)
            scorer.record(view, position: record.position, into: &current.state.matches)
            settle(current, after: .leadCaptured, at: view.at, id: record.idString, lead: lead, position: record.position)
            return
        }
        let event = try LeadStore.event(from: record)
        guard let lead = event.lead else { return }
        if event.type == .leadQualified && event.data["by"] == .string("rules") { return }
        guard let current = simulated.value(lead) else { return }  // (only a capture starts a lead)
        if event.type == .leadEnriched { try current.loadProfile() }
        guard Lifecycle.refusal(of: event, given: current.state) == nil else { return }
        Lifecycle.apply(event, position: record.position, to: &current.state)
        if event.type == .leadEnriched {
            current.fit = scorer.fitPoints(current.state.profile)
        }
        scorer.record(event, position: record.position, into: &current.state.matches)
        settle(current, after: event.type, at: event.at, id: event.id, lead: lead, position: record.position)
    }
}
