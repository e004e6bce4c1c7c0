import EventLog
import LeadDomain
import LMDB

extension LeadStore {
    /// The names of interned ids (channels, campaigns, sources, contents, owners).
    public func dimensionNames() throws -> [UInt32: String] {
        try log.environment.read { txn in
            try Dimensions.load(log.environment.table(projectionTables.dimensions), in: txn).names
        }
    }

    /// Calls `body` with every lead's journey in lead-id order, reading in chunks of short
    /// read transactions (memory stays flat).
    public func forEachJourney(_ body: (String, Journey) throws -> Void) throws {
        let table = try log.environment.table(projectionTables.journeys)
        var after: [UInt8]?
        while true {
            var batch: [(String, Journey)] = []
            try log.environment.read { txn in
                try txn.withCursor(table) { cursor in
                    var entry = try after.map { key in try key.withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    if let current = entry, let after, current.key.elementsEqual(after) { entry = try cursor.next() }
                    while let current = entry, batch.count < 8_192 {
                        batch.append((String(decoding: current.key, as: UTF8.self), try JourneyCodec.decode(current.value)))
                        entry = try cursor.next()
                    }
                }
            }
            log.environment.releaseMappedPages()
            guard let last = batch.last else { return }
            for (lead, journey) in batch { try body(lead, journey) }
            after = Array(last.0.utf8)
        }
    }
}
