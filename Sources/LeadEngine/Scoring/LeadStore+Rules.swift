import EventLog
import Foundation
import LeadDomain
import LedgerJSON
import LMDB

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

    /// Whether `rules` is what the log holds at `position` (a `rules.published` of the same
    /// version): publishing the same document again is a no-op that completes whatever an
    /// interrupted publish left undone, not an error.
    public func isPublished(_ rules: ScoringRules, at position: UInt64) throws -> Bool {
        guard let record = try log.record(at: position) else { return false }
        return try Self.event(from: record).data == rules.document
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
            guard let state = try self.lead(lead, asOf: time) else { return nil }
            return scorer.evaluate(profile: state.profile, matches: scorer.matches(of: upTo), at: time, explain: explain)
        }
        guard let state = try self.lead(lead) else { return nil }
        let matches = state.rulesVersion == rules.version
            ? state.matches
            : scorer.matches(of: try history(of: lead).map { (position: $0.position, event: $0.event) })
        return scorer.evaluate(profile: state.profile, matches: matches, at: Timestamp.now, explain: explain)
    }

    /// `rescore --apply`: publishes the rules (history stays as it is), rescores every lead,
    /// and qualifies now the leads in `lead` or `recycled` whose score now reaches the
    /// threshold. Returns the leads it qualified.
    public func apply(_ rules: ScoringRules, actor: String, at time: Timestamp) throws -> [String] {
        let published = try publishRules(rules, actor: actor, at: time)
        if case .duplicate(let position) = published {
            // The same document, still in force: an earlier --apply was interrupted, and this
            // one resumes it (the qualifications' ids follow from the version and the lead,
            // so none is appended twice).
            guard try isPublished(rules, at: position), try currentRules()?.version == rules.version else {
                throw ScoringError.alreadyPublished(version: rules.version)
            }
        }
        let live = LiveScorer(Scorer(rules))
        var qualify: [Envelope] = []
        try forEachLead { state in
            if let qualified = live.qualificationNow(state, at: time) { qualify.append(qualified) }
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

    /// Calls `body` with every projected lead state in id order (leads merged away left
    /// out), reading in chunks.
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
                let state = try bytes.withUnsafeBytes { try LeadStateCodec.decode($0, lead: lead, profile: profile) }
                // (A lead merged into another is only a pointer to it now.)
                if state.mergedInto == nil { try body(state) }
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
