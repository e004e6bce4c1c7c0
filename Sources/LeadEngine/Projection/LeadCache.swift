import Dispatch
import LeadDomain

/// The leads a projection holds in memory, and when it lets them go.
///
/// The writer commits a group of appends while the next one is prepared against a snapshot
/// that does not show it yet (a replay likewise writes a chunk while the next is applied), so
/// a lead changed by a group stays cached until that group is committed (`didCommit`), and
/// is read from its table after that: memory does not grow with the number of leads.
final class LeadCache {
    @exclusivity(unchecked) private var leads = LeadTable<CachedLead>()
    /// Leads looked for in the table and not found, until the next commit.
    @exclusivity(unchecked) private var missing: Set<String> = []
    /// In a replay from position 1 (into emptied tables): the hashes of every lead cached so
    /// far, so of every lead stored. A lead whose hash is not here is in no table, and is not
    /// looked for there: each new lead's first event spares a look-up that finds nothing
    /// (1,400 instructions a lead, a B-tree descent on a random key).
    @exclusivity(unchecked) private var knownLeads: Set<UInt64>?
    /// The leads cached or changed since the last group was encoded (`generation` counts the
    /// groups), each once; then, for each group encoded and not yet seen committed, those of
    /// that group. Encoding and releasing then visit only these, not every cached lead:
    /// scanning the whole cache once per group was a twentieth of the log's sequencer.
    @exclusivity(unchecked) private var touched: [CachedLead] = []
    @exclusivity(unchecked) private var generation = 0
    @exclusivity(unchecked) private var touchedByGroup: [(sequence: UInt64, leads: [CachedLead])] = []
    /// The lead last looked up by its bytes (a lead's events often come in runs).
    @exclusivity(unchecked) private var recent = RecentLead<CachedLead>()
    /// The id bytes of the lead last looked up by its bytes and found nowhere (not cached,
    /// not in its table), while `knowsAbsent`: a new lead's capture is looked for when it is
    /// admitted and again when it is applied, and nothing adds a lead in between except
    /// through `insert`, which forgets it (as a commit does).
    @exclusivity(unchecked) private var absentLead: [UInt8] = []
    @exclusivity(unchecked) private var knowsAbsent = false

    /// How many leads are cached.
    var count: Int { leads.count }

    /// Every cached lead, with its id.
    var all: [(lead: String, value: CachedLead)] { leads.all }

    // MARK: Finding

    /// The lead last found by `remember`, if these are its id bytes (inlined into the replay's
    /// loop; the rest is not).
    @inline(__always)
    func recentLead(_ lead: UnsafeRawBufferPointer) -> CachedLead? {
        recent.value(lead)
    }

    /// Whether these are the id bytes of the lead last found nowhere (see `absentLead`).
    @inline(__always)
    func wasLastFoundNowhere(_ lead: UnsafeRawBufferPointer) -> Bool {
        knowsAbsent && absentLead.hasSameBytes(as: lead)
    }

    /// Remembers what a look-up by these id bytes found: the lead, or (`nil`) that it is
    /// neither cached nor in its table.
    func remember(_ lead: CachedLead?, as bytes: UnsafeRawBufferPointer) {
        recent.remember(lead, as: bytes)
        if lead == nil {
            absentLead.removeAll(keepingCapacity: true)
            absentLead.append(contentsOf: bytes)
            knowsAbsent = true
        }
    }

    func lead(_ lead: UnsafeRawBufferPointer, hash: UInt64) -> CachedLead? {
        leads.value(lead, hash: hash)
    }

    func lead(_ lead: String, hash: UInt64) -> CachedLead? {
        leads.value(lead, hash: hash)
    }

    /// Whether the lead is known to be in no table (so not worth looking for).
    func isKnownAbsent(_ lead: String, hash: UInt64) -> Bool {
        if let knownLeads, !knownLeads.contains(hash) { return true }
        return missing.contains(lead)
    }

    /// The lead was looked for in its table and is not there.
    func noteAbsent(_ lead: String) {
        missing.insert(lead)
    }

    /// For a replay from position 1, into tables emptied first: the leads not met yet are
    /// known to be in no table (see `knownLeads`).
    func startFromEmptyTables() {
        knownLeads = []
    }

    // MARK: Changing

    /// Caches a lead (read from its table, or new); `hash` is its id's.
    func insert(_ cached: CachedLead, as lead: String, hash: UInt64) {
        leads.set(cached, for: lead, hash: hash)
        knowsAbsent = false
        knownLeads?.insert(hash)
        if !missing.isEmpty { missing.remove(lead) }
        listAsTouched(cached)
    }

    /// Marks a cached lead as changed: its row is encoded with the next group.
    @inline(__always)
    func markChanged(_ cached: CachedLead) {
        cached.changed = true
        listAsTouched(cached)
    }

    @inline(__always)
    private func listAsTouched(_ cached: CachedLead) {
        guard cached.touchedIn != generation else { return }
        cached.touchedIn = generation
        touched.append(cached)
    }

    /// Hands over the leads cached or changed since the last group, for group `sequence`
    /// (each is kept until that group is committed) and starts the next group's list.
    func takeTouched(for sequence: UInt64) -> [CachedLead] {
        let taken = touched
        touchedByGroup.append((sequence, taken))
        touched = []
        generation += 1
        return taken
    }

    // MARK: Letting go

    /// The groups through `sequence` are stored: their leads are read from the table again.
    func didCommit(through sequence: UInt64) {
        // A lead cached or changed in a committed group is let go unless a later group has
        // changed it since (that group's list, or `touched`, holds it then).
        var released: [CachedLead] = []
        while let group = touchedByGroup.first, group.sequence <= sequence {
            touchedByGroup.removeFirst()
            for cached in group.leads where !cached.changed && cached.sequence <= sequence {
                // (Only this very lead: one let go earlier may have been cached again since.)
                if leads.remove(cached.state.lead, ifItIs: cached) { released.append(cached) }
            }
        }
        let retired = Retired(released)
        missing.removeAll(keepingCapacity: true)
        recent.forget()
        knowsAbsent = false
        // The leads let go are freed on another thread: this one (the log's sequencer) is on
        // every record's path, and freeing a few thousand states and journeys is a few
        // percent of its work.
        DispatchQueue.global().async { retired.release() }
    }

    /// Drops every cached lead (after an abort: nothing uncommitted happened).
    func removeAll() {
        leads.removeAll()
        missing.removeAll(keepingCapacity: true)
        touched.removeAll()
        touchedByGroup.removeAll()
        generation += 1
        recent.forget()
        knowsAbsent = false
    }

    /// Cached leads handed to another thread only to be freed there (nothing else touches
    /// them: the cache keeps its own references to those it still needs).
    private final class Retired: @unchecked Sendable {
        private var leads: [CachedLead]?

        init(_ leads: [CachedLead]) {
            self.leads = leads
        }

        func release() {
            leads = nil
        }
    }
}
