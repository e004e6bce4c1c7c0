import EventLog
import LeadDomain
import LedgerJSON
import LMDB

/// Which lead each anonymous visitor is joined to: the last record of a joined visitor's
/// stream is its `identity.linked` marker (everything it sends afterwards goes to the lead),
/// so one look-up answers, and the answer is kept. Only a cache of the log: emptied after an
/// abort, and when it grows past `capacity`.
final class VisitorLinks {
    /// visitor → its lead, or `nil` when it is known not to be joined.
    private var known: [String: String?] = [:]
    let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    func lead(of visitor: String, reader: LogReader, in txn: some TransactionReading) throws -> String? {
        if let cached = known[visitor] { return cached }
        var lead: String?
        if let last = try reader.last(stream: Envelope.visitorStream(visitor), in: txn),
           try last.payload.withUnsafeBytes({ try EventCodec.header($0).type }) == .identityLinked
        {
            // (Only a link is decoded whole: the last event of most visitors is a page view.)
            lead = try LeadStore.event(from: last).data["lead"]?.stringValue
        }
        remember(visitor, joinedTo: lead)
        return lead
    }

    func remember(_ visitor: String, joinedTo lead: String?) {
        if known.count >= capacity { known.removeAll(keepingCapacity: true) }
        known[visitor] = .some(lead)
    }

    func forget() {
        known.removeAll()
    }
}
