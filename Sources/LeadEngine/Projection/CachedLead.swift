import LeadDomain

/// A lead the projection holds in memory while a group of appends (or a replay chunk) changes
/// it: what live scoring keeps (`ScoredLead`), its journey, and the bookkeeping that tells
/// `LeadCache` when it may be let go.
final class CachedLead: ScoredLead {
    @exclusivity(unchecked) var journey: Journey?
    /// `journey` was read from the table (or created) since the lead was cached.
    @exclusivity(unchecked) var journeyLoaded = false
    /// Changed since its row was last encoded.
    @exclusivity(unchecked) var changed = false
    /// The last append group (or replay chunk) whose rows hold it.
    @exclusivity(unchecked) var sequence: UInt64 = 0
    /// The `LeadCache.generation` in which it was last listed as touched.
    @exclusivity(unchecked) var touchedIn = -1
    /// The account its row is listed under in the `accounts` index, as last encoded (or read).
    @exclusivity(unchecked) var indexedAccount: String?
}
