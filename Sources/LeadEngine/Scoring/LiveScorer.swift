import LeadDomain
import LedgerJSON

/// Live scoring under one rules document, in one place: the live projection (as events are
/// appended), a rescore's simulation (the whole log replayed under other rules) and
/// `rescore --apply` (qualifying now) all score through it, so a change to when a lead
/// qualifies is made here.
///
/// For each event applied to a lead, the caller records its rule hits (`record…`), then asks
/// whether it qualifies the lead (`qualification(after:at:of:)`). Per SPEC section 4 a lead in
/// `lead` or `recycled` qualifies when its score, at the event's time but never before it
/// entered its current stage, reaches the threshold.
struct LiveScorer {
    let scorer: Scorer
    /// For each behavior rule, whether its points are negative (a penalty).
    private let penalties: [Bool]

    init(_ scorer: Scorer) {
        self.scorer = scorer
        penalties = scorer.rules.behavior.map { $0.points < 0 }
    }

    var rules: ScoringRules { scorer.rules }

    // MARK: Recording hits

    /// A touch, read in place, applied to `lead`.
    @inline(__always)
    func recordTouch(_ view: EventView, position: UInt64, of lead: ScoredLead) {
        let before = lead.state.matches.count
        scorer.record(view, position: position, into: &lead.state.matches)
        let matched = lead.state.matches.count > before
        lead.lastTouchMatched = matched
        if matched {
            if view.at > lead.latestMatch { lead.latestMatch = view.at }
            if hasPenalty(lead.state.matches) { lead.hasPenalty = true }
        }
    }

    /// A new lead's capture, read in place: its fit comes from the capture's data.
    func recordCapture(_ view: EventView, position: UInt64, of lead: ScoredLead) {
        lead.fit = (scorer, scorer.fitPoints(view))
        scorer.record(view, position: position, into: &lead.state.matches)
        changed(lead)
    }

    /// Any other event applied to `lead` (its stage or profile may have changed).
    func record(_ event: Envelope, position: UInt64, of lead: ScoredLead) {
        scorer.record(event, position: position, into: &lead.state.matches)
        changed(lead)
    }

    /// `lead`'s hits were replaced (another rules document, or a lead read back from its
    /// table): what was remembered about them is worked out again.
    func rescored(_ lead: ScoredLead) {
        lead.hasPenalty = false
        lead.latestMatch = Timestamp(microseconds: .min)
        changed(lead)
    }

    private func changed(_ lead: ScoredLead) {
        if hasPenalty(lead.state.matches) { lead.hasPenalty = true }
        if let last = lead.state.matches.last?.at, last > lead.latestMatch { lead.latestMatch = last }
        lead.settledAt = nil
    }

    private func hasPenalty(_ matches: [ScoreMatch]) -> Bool {
        matches.contains { penalties[$0.rule] }
    }

    // MARK: Qualifying

    /// The qualification, if any, that an event of `type` at `at` — applied to `lead` and its
    /// hits recorded — triggers: the score and the time it is reached.
    ///
    /// After a touch that was not a hit, a lead with no penalty that was already evaluated
    /// below the threshold at or before this time is not evaluated again (its score can only
    /// have decayed): most of a log's touches are answered without computing a score.
    func qualification(after type: EventType, at: Timestamp, of lead: ScoredLead) throws -> (score: Double, at: Timestamp)? {
        guard LiveScoring.triggers(type) else { return nil }
        let stage = lead.state.stage
        let enteredAt = lead.stageEnteredAt
        guard type.isTouch else {
            return LiveScoring.qualification(
                at: at, stage: stage, enteredAt: enteredAt, matches: lead.state.matches, fit: try lead.fitPoints(under: scorer), scorer: scorer)
        }
        let matched = lead.lastTouchMatched
        let time = max(at, enteredAt)
        if !matched, !lead.hasPenalty, let settled = lead.settledAt, time >= settled { return nil }
        let qualification = LiveScoring.qualification(
            at: at, stage: stage, enteredAt: enteredAt, matches: lead.state.matches, fit: try lead.fitPoints(under: scorer), scorer: scorer)
        if qualification != nil {
            lead.settledAt = nil
        } else if stage == .lead || stage == .recycled, time >= lead.latestMatch {
            // A new hit invalidates an earlier settled time: only this evaluation counted it.
            lead.settledAt = matched ? time : max(lead.settledAt ?? time, time)
        } else if matched {
            lead.settledAt = nil
        }
        return qualification
    }

    /// The `lead.qualified` that live scoring appends for `qualification`, triggered by the
    /// event `trigger` (its id is derived from the trigger's, so a replay gives the same ids).
    func qualifiedEvent(lead: String, trigger: String, _ qualification: (score: Double, at: Timestamp)) -> Envelope {
        LiveScoring.qualifiedEvent(lead: lead, trigger: trigger, score: qualification.score, at: qualification.at, rulesVersion: rules.version)
    }

    /// The score of `lead` at `time` (a handoff's stamp).
    func score(of lead: ScoredLead, at time: Timestamp) throws -> Double {
        scorer.evaluate(fit: try lead.fitPoints(under: scorer), matches: lead.state.matches, at: time).score
    }

    /// `rescore --apply`: the `lead.qualified` that qualifies a projected lead now, at `time`,
    /// if it is in `lead` or `recycled` and its score reaches the threshold. Its id is derived
    /// from the rules version, so applying the same rules twice qualifies nobody twice.
    func qualificationNow(_ state: LeadState, at time: Timestamp) -> Envelope? {
        guard state.stage == .lead || state.stage == .recycled else { return nil }
        let score = scorer.evaluate(profile: state.profile, matches: state.matches, at: time).score
        guard score >= rules.mqlThreshold else { return nil }
        return Envelope(
            id: "rules:\(rules.version)#mql:\(state.lead)", type: .leadQualified, lead: state.lead, at: time,
            actor: LiveScoring.actor, data: ["score": .number(score), "rulesVersion": .string(rules.version), "by": "rules"])
    }
}
