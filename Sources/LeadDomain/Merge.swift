import LedgerJSON

/// Merging two leads that are one person (`lead.merged`): when a merge is refused, and how
/// the duplicate's state and journey join the survivor's. Pure functions, no I/O.
public enum Merge {
    /// How far along the funnel a stage is; the more advanced of two leads' stages wins a
    /// merge (a tie keeps the survivor's). Recycled and disqualified leads count as leads, a
    /// lost deal as an opportunity.
    public static func advancement(_ stage: Stage) -> Int {
        switch stage {
        case .lead, .recycled, .disqualified: 0
        case .mql: 1
        case .sal: 2
        case .sql: 3
        case .opportunity, .lost: 4
        case .customer: 5
        }
    }

    /// Why `duplicate` may not be merged into `survivor` (`nil` when it may). `survivorState`
    /// and `duplicateState` are their states (`nil` for an unknown lead); `resolve` follows a
    /// merged-away lead to the lead it ended in, for naming a cycle.
    public static func refusal(
        id: String, duplicate: String, into survivor: String, survivorState: LeadState?, duplicateState: LeadState?,
        resolve: (String) -> String
    ) -> String? {
        func refuse(_ why: String) -> String {
            "lead.merged \"\(id)\" refused: cannot merge lead \(duplicate) into lead \(survivor): \(why)"
        }
        if duplicate == survivor { return refuse("a lead cannot be merged into itself") }
        guard let survivorState else { return refuse("lead \(survivor) is unknown") }
        guard let duplicateState else { return refuse("lead \(duplicate) is unknown") }
        if let into = survivorState.mergedInto {
            let end = resolve(into)
            if end == duplicate { return refuse("lead \(survivor) was merged into lead \(duplicate) already, so this would make a cycle") }
            return refuse("lead \(survivor) was merged away into lead \(into); merge into lead \(end) instead")
        }
        if let into = duplicateState.mergedInto {
            return refuse("lead \(duplicate) was merged into lead \(into) already")
        }
        if survivorState.stage == .customer, duplicateState.stage == .customer, survivorState.opportunity != duplicateState.opportunity {
            return refuse(
                "both are customers with different won opportunities (\(survivorState.opportunity ?? "none") and \(duplicateState.opportunity ?? "none")); "
                    + "two won deals are two conversions, not one person to merge")
        }
        return nil
    }

    /// The survivor's state once the duplicate's joins it: the more advanced stage (with its
    /// owner, handoff and opportunity), both stage histories and scoring hits in time order,
    /// the survivor's profile fields with the duplicate's filling the gaps, the earlier
    /// capture, the later activity, both counts.
    public static func absorb(_ duplicate: LeadState, into survivor: inout LeadState) {
        if advancement(duplicate.stage) > advancement(survivor.stage) {
            survivor.stage = duplicate.stage
            survivor.owner = duplicate.owner ?? survivor.owner
            survivor.handedOff = duplicate.handedOff
            survivor.opportunity = duplicate.opportunity ?? survivor.opportunity
        } else {
            survivor.owner = survivor.owner ?? duplicate.owner
            survivor.opportunity = survivor.opportunity ?? duplicate.opportunity
        }
        var profile = survivor.profile
        for member in duplicate.profile where profile[member.key] == nil { profile[member.key] = member.value }
        survivor.profile = profile
        AccountRule.merge(duplicate, into: &survivor)
        survivor.capturedAt = min(survivor.capturedAt, duplicate.capturedAt)
        survivor.lastActivityAt = max(survivor.lastActivityAt, duplicate.lastActivityAt)
        survivor.touches += duplicate.touches
        survivor.events += duplicate.events
        survivor.stages = inTimeOrder(survivor.stages + duplicate.stages, at: \.at, position: \.position)
        survivor.matches = inTimeOrder(survivor.matches + duplicate.matches, at: \.at, position: \.position)
    }

    /// The survivor's journey once the duplicate's joins it: one journey, so one conversion.
    /// The earlier capture's origin, each funnel stage first reached by either, both leads'
    /// touches, handoffs, rejections and opportunities in time order; the won deal (or the
    /// lost one) of the lead whose stage won (`duplicateWins`).
    public static func absorb(_ duplicate: Journey, into survivor: inout Journey, duplicateWins: Bool) {
        if duplicate.capturedAt < survivor.capturedAt {
            survivor.source = duplicate.source
            survivor.campaign = duplicate.campaign
            survivor.channel = duplicate.channel
            survivor.capturedAt = duplicate.capturedAt
        }
        for index in survivor.reached.indices {
            switch (survivor.reached[index], duplicate.reached[index]) {
            case (nil, let theirs): survivor.reached[index] = theirs
            case (let ours?, let theirs?): survivor.reached[index] = min(ours, theirs)
            default: break
            }
        }
        survivor.opportunities = (survivor.opportunities + duplicate.opportunities).sorted()
        if duplicateWins {
            survivor.wonAt = duplicate.wonAt
            survivor.revenue = duplicate.revenue
            survivor.lostAt = duplicate.lostAt
        }
        survivor.handoffs = (survivor.handoffs + duplicate.handoffs).enumerated()
            .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        survivor.rejections = (survivor.rejections + duplicate.rejections).enumerated()
            .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        survivor.accepts += duplicate.accepts
        survivor.touches = inTimeOrder(survivor.touches + duplicate.touches, at: \.at, position: \.position)
    }

    /// `items` sorted by time, then log position (both leads' positions are distinct).
    private static func inTimeOrder<Item>(_ items: [Item], at: KeyPath<Item, Timestamp>, position: KeyPath<Item, UInt64>) -> [Item] {
        items.sorted { ($0[keyPath: at], $0[keyPath: position]) < ($1[keyPath: at], $1[keyPath: position]) }
    }
}
