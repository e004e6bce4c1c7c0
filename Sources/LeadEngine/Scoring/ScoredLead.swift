import LeadDomain

/// A lead as live scoring sees it, mutated in place (a class: no copies of the state's arrays
/// per event): its state with its rule hits, its profile (kept in its stored form until
/// something reads it), its fit points under the rules in force, and what `LiveScorer`
/// remembers to skip evaluations that cannot qualify it.
///
/// The live projection caches leads as `CachedLead`s (this, plus what the projection keeps);
/// a rescore's simulation uses this class as it is. Both go through `LiveScorer`, so live
/// scoring exists once.
class ScoredLead {
    @exclusivity(unchecked) final var state: LeadState
    /// The profile in its stored form, when known without encoding it: a capture's profile is
    /// the capture's stored data. `nil` once the profile changes.
    @exclusivity(unchecked) final var encodedProfile: [UInt8]?
    /// The profile is still only `encodedProfile` (`state.profile` is empty): a capture's data
    /// stays encoded until something reads the profile (`loadProfile`).
    @exclusivity(unchecked) final private(set) var profilePending = false
    /// The profile's fit points under a scorer, once evaluated: the fit rules' regular
    /// expressions are the costly part of a score. `nil` once the profile changes.
    @exclusivity(unchecked) final var fit: (scorer: Scorer, points: Double)?

    // What `LiveScorer` remembers between events (see `LiveScorer.qualification(after:)`).
    /// Some rule hit has negative points: only then can a score rise as time passes (a penalty
    /// decays), so only then must a touch that matched nothing be evaluated.
    @exclusivity(unchecked) final var hasPenalty = false
    /// A time T at which the lead was evaluated below the threshold with every hit counted
    /// (T ≥ every hit's time), in its current stage and profile: without a new hit or a
    /// penalty its score at any later time is no higher, so touches at or after T need no
    /// evaluation. Reset by anything that changes the lead otherwise.
    @exclusivity(unchecked) final var settledAt: Timestamp?
    /// The time of the latest hit.
    @exclusivity(unchecked) final var latestMatch = Timestamp(microseconds: .min)
    /// Whether the last touch recorded was a hit.
    @exclusivity(unchecked) final var lastTouchMatched = false

    init(state: LeadState) {
        self.state = state
    }

    /// A new lead whose profile stays encoded until it is read.
    init(state: LeadState, encodedProfile: [UInt8]) {
        self.state = state
        self.encodedProfile = encodedProfile
        profilePending = true
    }

    /// Gives `state.profile` its value, if it was left encoded.
    final func loadProfile() throws {
        guard profilePending, let encodedProfile else { return }
        state.profile = try encodedProfile.withUnsafeBytes { try EventCodec.decodeObject($0) }
        profilePending = false
    }

    /// The profile changed (a capture or an enrichment applied to `state.profile`).
    final func profileChanged() {
        encodedProfile = nil
        profilePending = false
        fit = nil
    }

    /// `state.stageEnteredAt`, from the stored fields (a getter of `state` copies it whole).
    final var stageEnteredAt: Timestamp {
        LeadState.enteredAt(stage: state.stage, stages: state.stages, capturedAt: state.capturedAt)
    }

    /// The fit points of the profile under `scorer`, evaluated once per profile and rules.
    final func fitPoints(under scorer: Scorer) throws -> Double {
        if let fit, fit.scorer === scorer { return fit.points }
        try loadProfile()
        let points = scorer.fitPoints(state.profile)
        fit = (scorer, points)
        return points
    }
}
