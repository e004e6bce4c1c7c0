import LedgerJSON

/// Where a lead is in the funnel.
public enum Stage: String, Sendable, CaseIterable, Hashable {
    case lead, mql, sal, sql, opportunity, customer, recycled, disqualified, lost

    /// The stored one-byte tag (append only).
    public var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }

    public init?(code: UInt8) {
        guard Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }
}

/// One stage change: when (the event's `at`), which event caused it and who recorded it.
public struct StageChange: Sendable, Hashable {
    public var stage: Stage
    public var at: Timestamp
    public var type: EventType
    public var actor: String?
    public var position: UInt64

    public init(stage: Stage, at: Timestamp, type: EventType, actor: String?, position: UInt64) {
        self.stage = stage
        self.at = at
        self.type = type
        self.actor = actor
        self.position = position
    }
}

/// A lead as the lifecycle sees it: stage, owner, merged profile, activity and the history of
/// its stage changes.
public struct LeadState: Sendable, Hashable {
    public var lead: String
    public var stage: Stage
    /// The sales owner of the latest handoff.
    public var owner: String?
    /// Whether the lead was handed off in its current MQL cycle (sales may accept or reject it).
    public var handedOff: Bool
    /// The current (or last) opportunity.
    public var opportunity: String?
    /// Profile fields merged from `lead.captured` and `lead.enriched`, in first-seen order.
    public var profile: JSONObject
    public var capturedAt: Timestamp
    /// The latest `at` of any of its events (late arrivals do not move it back).
    public var lastActivityAt: Timestamp
    public var touches: Int
    public var events: Int
    public var stages: [StageChange]
    /// The behavior rules its events matched, in time order, under `rulesVersion`.
    public var matches: [ScoreMatch]
    /// The rules version the matches were computed with (`nil`: no rules yet).
    public var rulesVersion: String?
    /// The lead this one was merged into (`lead.merged`): its events are that lead's from
    /// then on, and this row only says where it went.
    public var mergedInto: String?
    /// The account it belongs to (see `AccountRule`), and whether an event assigned it
    /// explicitly (else the domain rule gave it).
    public var account: String?
    public var accountIsExplicit: Bool

    /// When the lead entered its current stage.
    public var stageEnteredAt: Timestamp {
        Self.enteredAt(stage: stage, stages: stages, capturedAt: capturedAt)
    }

    /// The last change into `stage`: the last change of all but after a merge, whose history
    /// holds both leads' changes in time order while the more advanced stage is current.
    @inline(__always)
    public static func enteredAt(stage: Stage, stages: [StageChange], capturedAt: Timestamp) -> Timestamp {
        guard let last = stages.last else { return capturedAt }
        if last.stage == stage { return last.at }
        return stages.last { $0.stage == stage }?.at ?? last.at
    }

    /// When the lead first became an MQL.
    public var firstQualifiedAt: Timestamp? {
        stages.first { $0.stage == .mql }?.at
    }

    public init(lead: String, capturedAt: Timestamp) {
        self.lead = lead
        self.stage = .lead
        self.owner = nil
        self.handedOff = false
        self.opportunity = nil
        self.profile = [:]
        self.capturedAt = capturedAt
        self.lastActivityAt = capturedAt
        self.touches = 0
        self.events = 0
        self.stages = []
        self.matches = []
        self.rulesVersion = nil
        self.mergedInto = nil
        self.account = nil
        self.accountIsExplicit = false
    }
}

/// The lifecycle state machine (SPEC section 3): pure functions, no I/O.
public enum Lifecycle {
    /// Why `event` may not be applied to a lead in `state` (`nil` for an unknown lead), or
    /// `nil` when it may. The reason names the lead, its stage and the event.
    public static func refusal(of event: Envelope, given state: LeadState?) -> String? {
        guard let lead = event.lead else { return nil }  // system events
        guard let state else {
            if event.type == .leadCaptured { return nil }
            return unknownLead(event.type, id: event.id, lead: lead)
        }
        func refuse(_ why: String) -> String {
            refused(event.type, id: event.id, lead: lead, stage: state.stage, why)
        }
        switch event.type {
        case .leadCaptured:
            return refusal(ofCapture: event.id, lead: lead, given: state)
        case .leadQualified:
            return [.lead, .recycled].contains(state.stage) ? nil : refuse("only a lead in stage lead or recycled can become an MQL")
        case .leadHandedOff:
            return [.mql, .sal, .sql].contains(state.stage) ? nil : refuse("only an MQL, SAL or SQL can be handed off to sales")
        case .salesAccepted:
            if state.stage == .mql && state.handedOff { return nil }
            return refuse(state.stage == .mql ? "the MQL was never handed off to sales" : "sales can accept only an MQL that was handed off")
        case .salesRejected:
            if (state.stage == .mql && state.handedOff) || state.stage == .sal || state.stage == .sql { return nil }
            return refuse(state.stage == .mql ? "the MQL was never handed off to sales" : "sales can reject only a lead handed off to it (an MQL, SAL or SQL)")
        case .salesQualified:
            return state.stage == .sal ? nil : refuse("only a sales-accepted lead (SAL) can become an SQL")
        case .opportunityOpened:
            return [.sal, .sql].contains(state.stage) ? nil : refuse("an opportunity opens from a SAL or SQL")
        case .dealClosed:
            guard state.stage == .opportunity else { return refuse("there is no open opportunity to close") }
            let closing = event.data["opportunity"]?.stringValue
            if let open = state.opportunity, closing != open {
                return refuse("the open opportunity is \(open), not \(closing ?? "(none)")")
            }
            return nil
        case .leadRecycled:
            if state.stage == .customer { return refuse("a customer cannot be recycled") }
            return state.stage == .recycled ? refuse("the lead is already recycled") : nil
        case .leadDisqualified:
            if state.stage == .customer { return refuse("a customer cannot be disqualified") }
            return state.stage == .disqualified ? refuse("the lead is already disqualified") : nil
        default:
            return nil
        }
    }

    /// Why a `lead.captured` would be refused: only when its lead is known (its data does not
    /// matter, so the event need not be decoded).
    public static func refusal(ofCapture id: String, lead: String, given state: LeadState?) -> String? {
        guard let state else { return nil }
        return refused(.leadCaptured, id: id, lead: lead, stage: state.stage, "the lead was already captured; use lead.enriched to update its profile")
    }

    private static func refused(_ type: EventType, id: String, lead: String, stage: Stage, _ why: String) -> String {
        "\(type.rawValue) \"\(id)\" refused for lead \(lead) in stage \(stage.rawValue): \(why)"
    }

    /// Why a touch would be refused: only when its lead is unknown (touches never change the
    /// stage, so every known lead takes them).
    public static func refusal(ofTouch type: EventType, id: String, lead: String, leadIsKnown: Bool) -> String? {
        leadIsKnown ? nil : unknownLead(type, id: id, lead: lead)
    }

    static func unknownLead(_ type: EventType, id: String, lead: String) -> String {
        "\(type.rawValue) \"\(id)\" refused: lead \(lead) is unknown (its first event must be lead.captured)"
    }

    /// Applies an allowed event (call `refusal` first) stored at `position`.
    public static func apply(_ event: Envelope, position: UInt64, to state: inout LeadState?) {
        guard let lead = event.lead else { return }
        // (`state == nil` would copy the state to compare it.)
        if case .none = state {
            guard event.type == .leadCaptured else { return }
            state = newLead(lead, capturedAt: event.at)
        }
        apply(event, position: position, to: &state!)
    }

    private static func newLead(_ lead: String, capturedAt at: Timestamp) -> LeadState {
        var state = LeadState(lead: lead, capturedAt: at)
        // (Room for a typical funnel: growing the array one stage at a time reallocates.)
        state.stages.reserveCapacity(6)
        return state
    }

    /// A new lead from its `lead.captured` stored at `position`, with an empty profile:
    /// everything `apply` does for the capture but merging its data, for a replay that keeps
    /// the capture's data encoded until something reads the profile. `hasChannel`: whether
    /// the data has a `channel` member (the capture is then a touch too); `account`: the
    /// data's account (`EventView.capturedAccount`; a rescore's simulation, which needs none,
    /// leaves it out).
    public static func captured(
        lead: String, at: Timestamp, actor: String?, hasChannel: Bool, position: UInt64, account: (account: String, explicit: Bool)? = nil
    ) -> LeadState {
        var state = newLead(lead, capturedAt: at)
        state.events += 1
        if let account {
            state.account = account.account
            state.accountIsExplicit = account.explicit
        }
        capture(at: at, actor: actor, hasChannel: hasChannel, position: position, to: &state)
        return state
    }

    /// A capture's effect on its lead, its profile aside.
    private static func capture(at: Timestamp, actor: String?, hasChannel: Bool, position: UInt64, to lead: inout LeadState) {
        lead.capturedAt = at
        if hasChannel { lead.touches += 1 }
        lead.stage = .lead
        lead.stages.append(StageChange(stage: .lead, at: at, type: .leadCaptured, actor: actor, position: position))
    }

    /// Applies an allowed event to an existing lead.
    public static func apply(_ event: Envelope, position: UInt64, to lead: inout LeadState) {
        // (An erasure concerns the lead's personal data, not its lifecycle: not even activity,
        // so that every report and SLA gives the same after it.)
        if event.type == .leadErased { return }
        lead.events += 1
        if event.at > lead.lastActivityAt { lead.lastActivityAt = event.at }
        func enter(_ stage: Stage) {
            lead.stage = stage
            lead.stages.append(StageChange(stage: stage, at: event.at, type: event.type, actor: event.actor, position: position))
        }
        switch event.type {
        case .leadCaptured:
            mergeProfile(event.data, into: &lead.profile)
            AccountRule.update(&lead, with: event.data)
            capture(at: event.at, actor: event.actor, hasChannel: event.data["channel"] != nil, position: position, to: &lead)
        case .leadEnriched:
            mergeProfile(event.data, into: &lead.profile)
            AccountRule.update(&lead, with: event.data)
        case .leadQualified:
            lead.handedOff = false
            enter(.mql)
        case .leadHandedOff:
            lead.owner = event.data["to"]?.stringValue
            lead.handedOff = true
        case .salesAccepted:
            enter(.sal)
        case .salesRejected:
            lead.handedOff = false
            enter(event.data["recycle"] == .bool(true) ? .recycled : .disqualified)
        case .salesQualified:
            enter(.sql)
        case .opportunityOpened:
            lead.opportunity = event.data["opportunity"]?.stringValue
            enter(.opportunity)
        case .dealClosed:
            enter(event.data["outcome"] == .string("won") ? .customer : .lost)
        case .leadRecycled:
            lead.handedOff = false
            enter(.recycled)
        case .leadDisqualified:
            lead.handedOff = false
            enter(.disqualified)
        default:
            if event.type.isTouch { lead.touches += 1 }
        }
    }

    /// The whole effect of a touch (the most frequent event): replays apply it without
    /// decoding the touch's data.
    public static func applyTouch(at time: Timestamp, to lead: inout LeadState) {
        lead.events += 1
        if time > lead.lastActivityAt { lead.lastActivityAt = time }
        lead.touches += 1
    }

    static func mergeProfile(_ data: JSONObject, into profile: inout JSONObject) {
        // A capture's profile is its data (member names are unique): shared, not rebuilt.
        if profile.isEmpty {
            profile = data
            return
        }
        for member in data {
            profile[member.key] = member.value
        }
    }

    /// A lead's state as it was at `time`: its events with `at` ≤ `time`, in log order. Events
    /// the lifecycle would refuse in that subset (possible when lifecycle events arrived out
    /// of time order) are skipped.
    public static func state(of events: [(position: UInt64, event: Envelope)], asOf time: Timestamp?) -> LeadState? {
        var state: LeadState?
        for (position, event) in events where time.map({ event.at <= $0 }) ?? true {
            if refusal(of: event, given: state) == nil {
                apply(event, position: position, to: &state)
            }
        }
        return state
    }
}
