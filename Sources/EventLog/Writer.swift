import Foundation
import LMDB

/// The single writer: one thread that takes queued append requests, stores as many as fit in
/// one write transaction (group commit), commits, and then answers each request. Write
/// transactions begin and commit on this thread only.
final class Writer: @unchecked Sendable {
    struct Tip {
        var position: UInt64
        var hash: ChainHash
    }

    typealias Completion = @Sendable (Result<[AppendOutcome], any Error>) -> Void

    private struct Request {
        var records: [PendingRecord]
        var completion: Completion
    }

    private let environment: Environment
    private let tables: EventLog.Tables
    private let hook: (any AppendHook)?
    private let maxRecordsPerCommit: Int
    /// Only touched on the writer thread.
    private var tip: Tip

    private let condition = NSCondition()
    private var queue: [Request] = []
    private var stopping = false
    private var stopped = false
    private var thread: Thread?

    init(environment: Environment, tables: EventLog.Tables, hook: (any AppendHook)?, tip: Tip, maxRecordsPerCommit: Int) {
        self.environment = environment
        self.tables = tables
        self.hook = hook
        self.tip = tip
        self.maxRecordsPerCommit = max(1, maxRecordsPerCommit)
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "leadledger.writer"
        self.thread = thread
        thread.start()
    }

    func submit(_ records: [PendingRecord], completion: @escaping Completion) {
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(LogError.closed))
            return
        }
        queue.append(Request(records: records, completion: completion))
        condition.signal()
        condition.unlock()
    }

    /// Finishes the queued requests, then ends the thread. Blocks until it has.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped && thread != nil {
            condition.wait()
        }
        thread = nil
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping {
                condition.wait()
            }
            if queue.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            // Take requests until the commit would exceed the batch limit (always at least one).
            var group: [Request] = []
            var count = 0
            while let next = queue.first, group.isEmpty || count + next.records.count <= maxRecordsPerCommit {
                group.append(next)
                count += next.records.count
                queue.removeFirst()
            }
            condition.unlock()
            commit(group)
        }
    }

    private func commit(_ group: [Request]) {
        var attempt = 0
        do {
            let (outcomes, newTip) = try environment.write { txn -> ([[AppendOutcome]], Tip) in
                if attempt > 0 { hook?.didAbort() }
                attempt += 1
                var tip = self.tip
                var outcomes: [[AppendOutcome]] = []
                outcomes.reserveCapacity(group.count)
                for request in group {
                    var results: [AppendOutcome] = []
                    results.reserveCapacity(request.records.count)
                    for record in request.records {
                        results.append(try append(record, tip: &tip, txn: txn))
                    }
                    outcomes.append(results)
                }
                if let hook {
                    try hook.willCommit(in: txn)
                    if let name = hook.checkpointName, tip.position > self.tip.position {
                        try EventLog.setCheckpoint(name, to: tip.position, in: txn, tables: tables)
                    }
                }
                return (outcomes, tip)
            }
            tip = newTip
            hook?.didCommit()
            environment.releaseMappedPages()
            for (request, result) in zip(group, outcomes) {
                request.completion(.success(result))
            }
        } catch {
            hook?.didAbort()
            for request in group {
                request.completion(.failure(error))
            }
        }
    }

    /// Stores one record (and the hook's follow-ups) in `txn`, advancing `tip`.
    private func append(_ pending: PendingRecord, tip: inout Tip, txn: WriteTransaction) throws -> AppendOutcome {
        var record = pending
        if let problem = Self.problem(with: record) {
            return .rejected(reason: problem)
        }
        let position = tip.position + 1
        // Claim the id first: a new id (the usual case) costs one descent of the id index.
        let existing = try record.id.withUTF8Bytes { id in
            try IDKey.withKey(id) { key in
                try position.withBigEndianBytes { value in
                    try txn.insertOrFetch(tables.ids, key: key, value: value).map { UInt64(bigEndianBytes: $0) }
                }
            }
        }
        if let existing {
            return .duplicate(position: existing)
        }
        /// A refused record gives its id back, so that a corrected copy can be stored later.
        func releaseID() throws {
            try record.id.withUTF8Bytes { id in
                try IDKey.withKey(id) { key in _ = try txn.delete(tables.ids, key: key) }
            }
        }
        if let expected = record.expectedVersion {
            let actual = try EventLog.streamVersion(record.stream, txn: txn, tables: tables)
            if actual != expected {
                try releaseID()
                return .conflict(expected: expected, actual: actual)
            }
        }
        if let hook, case .reject(let reason) = try hook.admit(&record, in: txn) {
            try releaseID()
            return .rejected(reason: reason)
        }

        let recordedAt = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        var followUps: [PendingRecord] = []
        try record.id.withUTF8Bytes { id in
            try record.stream.withUTF8Bytes { stream in
                try record.payload.withUnsafeBytes { payload in
                    let size = RecordFormat.size(idBytes: id.count, streamBytes: stream.count, payloadBytes: payload.count)
                    try position.withBigEndianBytes { positionKey in
                        try txn.reserve(tables.events, key: positionKey, size: size, options: .append) { out in
                            tip.hash = RecordFormat.write(
                                into: out, position: position, previousHash: tip.hash,
                                recordedAt: recordedAt, id: id, stream: stream, payload: payload)
                            if let hook, let view = RecordFormat.view(position: position, bytes: UnsafeRawBufferPointer(out)) {
                                // The view points into the map: use it before the next write.
                                try hook.didStore(view, attachment: record.attachment, in: txn)
                                followUps = hook.followUps(after: view, attachment: record.attachment)
                            }
                        }
                        try txn.put(tables.streams, key: stream, value: positionKey, options: .appendDuplicate)
                    }
                }
            }
        }
        tip.position = position
        for followUp in followUps {
            _ = try append(followUp, tip: &tip, txn: txn)
        }
        return .appended(position: position)
    }

    /// Structural limits of the log (the domain validates everything else).
    static func problem(with record: PendingRecord) -> String? {
        if record.id.isEmpty { return "the id is empty" }
        if record.id.utf8.count > UInt16.max { return "the id is longer than \(UInt16.max) bytes" }
        if record.stream.isEmpty { return "the stream is empty" }
        if record.stream.utf8.count > RecordFormat.maxKeyBytes { return "the stream name is longer than \(RecordFormat.maxKeyBytes) bytes" }
        return nil
    }
}
