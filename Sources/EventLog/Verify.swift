import LMDB

/// The result of walking the whole log.
public struct VerificationReport: Sendable, Equatable {
    /// How many records were checked.
    public var records: UInt64
    /// The first problem found, if any; `nil` means the chain and every index agree.
    public var failure: VerificationFailure?

    public var isValid: Bool { failure == nil }

    public init(records: UInt64, failure: VerificationFailure?) {
        self.records = records
        self.failure = failure
    }
}

public struct VerificationFailure: Sendable, Equatable, CustomStringConvertible {
    /// The first position where the log disagrees with itself (0 for a table-wide problem).
    public var position: UInt64
    public var reason: String

    public init(position: UInt64, reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String {
        position == 0 ? reason : "position \(position): \(reason)"
    }
}

extension EventLog {
    /// Walks the whole log in chunks (short read transactions): checks that positions are
    /// gapless from 1, recomputes the hash chain, and checks that the id index and the stream
    /// index hold exactly one entry for every record. `progress` is called with the position
    /// reached after each chunk.
    public func verify(chunkSize: Int = 16_384, progress: ((UInt64) -> Void)? = nil) throws -> VerificationReport {
        var previousHash = ChainHash.genesis
        var expected: UInt64 = 1
        var failure: VerificationFailure?

        scan: while failure == nil {
            let visited = try environment.read { txn -> Int in
                try txn.withCursor(tables.events) { cursor in
                    var count = 0
                    var entry = try expected.withBigEndianBytes { try cursor.seek(atLeast: $0) }
                    while let current = entry, count < chunkSize {
                        guard current.key.count == 8 else {
                            failure = VerificationFailure(position: expected, reason: "a key of \(current.key.count) bytes follows position \(expected - 1) in the events table")
                            return count
                        }
                        let position = UInt64(bigEndianBytes: current.key)
                        if let problem = check(position: position, expected: expected, value: current.value, previousHash: &previousHash, txn: txn) {
                            failure = VerificationFailure(position: min(position, expected), reason: problem)
                            return count
                        }
                        expected += 1
                        count += 1
                        entry = try cursor.next()
                    }
                    return count
                }
            }
            environment.releaseMappedPages()
            progress?(expected - 1)
            if visited < chunkSize { break scan }
        }
        let records = expected - 1
        if failure == nil {
            failure = try checkIndexTotals(records: records)
        }
        return VerificationReport(records: records, failure: failure)
    }

    private func check(position: UInt64, expected: UInt64, value: UnsafeRawBufferPointer, previousHash: inout ChainHash, txn: ReadTransaction) -> String? {
        if position != expected {
            return "positions are not gapless: expected \(expected), found \(position)"
        }
        guard let view = RecordFormat.view(position: position, bytes: value) else {
            return "the record's layout is broken (lengths overrun its \(value.count) bytes)"
        }
        guard view.formatVersion == RecordFormat.version else {
            return "unknown record format version \(view.formatVersion)"
        }
        let computed = RecordFormat.chainHash(previous: previousHash, position: position, formatVersion: view.formatVersion, body: view.body)
        guard computed == ChainHash(bytes: view.hash) else {
            return "the hash chain breaks: the stored hash does not match the record's contents and the previous hash"
        }
        previousHash = computed
        do {
            let indexed = try IDKey.withKey(view.id) { key in try txn.get(tables.ids, key: key).map { UInt64(bigEndianBytes: $0) } }
            guard indexed == position else {
                let id = view.idString
                return indexed.map { "the id index maps id \"\(id)\" to position \($0)" } ?? "id \"\(id)\" is missing from the id index"
            }
            let inStream = try txn.withCursor(tables.streams) { cursor in
                try position.withBigEndianBytes { try cursor.seek(view.stream, value: $0) } != nil
            }
            guard inStream else {
                return "the stream index has no entry for stream \"\(view.streamString)\" at this position"
            }
        } catch {
            return "reading the indexes failed: \(error)"
        }
        return nil
    }

    /// Each index must hold exactly one entry per record: no more (entries pointing at
    /// records that do not exist) and, after the per-record checks, no fewer.
    private func checkIndexTotals(records: UInt64) throws -> VerificationFailure? {
        try environment.read { txn in
            let ids = try txn.statistics(tables.ids).entries
            if ids != Int(records) {
                return VerificationFailure(position: 0, reason: "the id index has \(ids) entries for \(records) records")
            }
            let streamEntries = try txn.statistics(tables.streams).entries
            if streamEntries != Int(records) {
                return VerificationFailure(position: 0, reason: "the stream index has \(streamEntries) entries for \(records) records")
            }
            for (name, position) in try Self.checkpoints(in: txn, tables: tables) where position > records {
                return VerificationFailure(position: 0, reason: "checkpoint \"\(name)\" is at position \(position), past the last record \(records)")
            }
            return nil
        }
    }
}
