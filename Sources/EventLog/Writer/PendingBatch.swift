import LMDB

/// Records to append, packed: each record's id, stream and payload back to back in one byte
/// array. A batch of thousands of records then costs a few allocations instead of several
/// per record, and the writer reads each record in place instead of copying and freeing it —
/// bulk ingest writes its records straight into a batch (`append(id:stream:payload:)`).
/// `PendingRecord`s handed to the log are packed into one the same way.
public struct PendingBatch: Sendable {
    struct Entry {
        /// Where the id starts in `bytes`; the stream and the payload follow it.
        var offset: Int
        var idCount: Int
        var streamCount: Int
        var payloadCount: Int
    }

    /// What only some records carry (see `PendingRecord`), with the record's index.
    struct Extras: Sendable {
        var index: Int
        var expectedVersion: Int?
        var attachment: (any RecordAttachment)?
    }

    /// The records' bytes, then zeros: room for more, already counted, so that appending a
    /// record is three copies rather than three `append(contentsOf:)`s, which cost more
    /// than the copying on the ingest's reading thread.
    private var bytes: [UInt8] = []
    /// How much of `bytes` the records fill.
    private var used = 0
    private(set) var entries: [Entry] = []
    /// The records that have extras, in index order (records are appended in order): a
    /// record without any costs nothing here.
    private var extras: [Extras] = []
    /// The chunk of zeros `append` grows the bytes by.
    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    /// See `isSealed`.
    var sealedFlag = false

    /// Whether a record carries an `expectedVersion` (the writer runs such a batch serially).
    public private(set) var hasExpectedVersions = false

    /// An empty batch with room for `records` records of `bytes` bytes in all.
    public init(reservingRecords records: Int = 0, bytes byteCount: Int = 0) {
        entries.reserveCapacity(records)
        bytes.reserveCapacity(byteCount)
    }

    public init(_ records: [PendingRecord]) {
        self.init(reservingRecords: records.count, bytes: records.reduce(0) { $0 + $1.id.utf8.count + $1.stream.utf8.count + $1.payload.count })
        for record in records { append(record) }
    }

    /// Empties the batch for reuse, keeping its memory: the bytes already counted stay
    /// counted (they are overwritten), so a refilled batch neither zeros nor page-faults
    /// again. (If the batch's storage is still shared with a copy, it gets storage of its own.)
    public mutating func removeAll() {
        used = 0
        entries.removeAll(keepingCapacity: true)
        extras.removeAll(keepingCapacity: true)
        hasExpectedVersions = false
        sealedFlag = false
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The ids, streams and payloads in bytes.
    public var byteCount: Int { used }

    public mutating func append(_ record: PendingRecord) {
        record.withView { append(id: $0.id, stream: $0.stream, payload: $0.payload) }
        if record.expectedVersion != nil || record.attachment != nil {
            extras.append(Extras(index: entries.count - 1, expectedVersion: record.expectedVersion, attachment: record.attachment))
            hasExpectedVersions = hasExpectedVersions || record.expectedVersion != nil
        }
    }

    /// Appends a record given as bytes (copied), with what the append hook may read instead
    /// of decoding the payload (see `PendingRecord.attachment`).
    public mutating func append(
        id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, attachment: any RecordAttachment
    ) {
        append(id: id, stream: stream, payload: payload)
        extras.append(Extras(index: entries.count - 1, expectedVersion: nil, attachment: attachment))
    }

    /// Appends a record given as bytes (copied), with no attachment (nearly every record).
    public mutating func append(id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        entries.append(Entry(offset: used, idCount: id.count, streamCount: stream.count, payloadCount: payload.count))
        let total = id.count + stream.count + payload.count
        if bytes.count - used < total {
            // (Zeros a chunk at a time: the memory a batch reserved is touched as it fills.
            // Copied from a chunk of zeros made once: appending a repeated element goes
            // element by element in a debug build, 16 ms a chunk, which kept the tests'
            // appenders from ever getting ahead of the writer.)
            // (Small at first, doubling to a whole chunk: a batch of one event, a server's
            // request, then costs no 64 KiB.)
            let grow = min(Self.zeros.count, max(bytes.count, 512))
            if total <= grow {
                bytes.append(contentsOf: Self.zeros[..<grow])
            } else {
                bytes.append(contentsOf: [UInt8](repeating: 0, count: total))
            }
        }
        bytes.withUnsafeMutableBytes { out in
            var at = used
            func copy(_ part: UnsafeRawBufferPointer) {
                guard part.count > 0, let source = part.baseAddress else { return }
                (out.baseAddress! + at).copyMemory(from: source, byteCount: part.count)
                at += part.count
            }
            copy(id)
            copy(stream)
            copy(payload)
        }
        used += total
    }

    /// The record at `index`, copied out.
    public subscript(index: Int) -> PendingRecord {
        withView(at: index) { $0.copy() }
    }

    /// The id of the record at `index`.
    public func idString(at index: Int) -> String {
        let entry = entries[index]
        return bytes.withUnsafeBytes { base in
            String(decoding: UnsafeRawBufferPointer(rebasing: base[entry.offset..<entry.offset + entry.idCount]), as: UTF8.self)
        }
    }

    /// Calls `body` with a view of the record at `index`.
    public func withView<R>(at index: Int, _ body: (PendingView) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { base in
            if let extra = extras.first(where: { $0.index == index }) {
                return try body(view(entries[index], extra, in: base))
            }
            return try body(view(entries[index], in: base))
        }
    }

    /// Calls `body` with a view of each record in order (and its index).
    public func forEachView(_ body: (Int, PendingView) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { base in
            try entries.withUnsafeBufferPointer { entries in
                var nextExtra = 0
                for index in entries.indices {
                    if nextExtra < extras.count, extras[nextExtra].index == index {
                        try body(index, view(entries[index], extras[nextExtra], in: base))
                        nextExtra += 1
                    } else {
                        try body(index, view(entries[index], in: base))
                    }
                }
            }
        }
    }

    /// A record without extras (most of them: no optional existential to copy).
    private func view(_ entry: Entry, in base: UnsafeRawBufferPointer) -> PendingView {
        let streamStart = entry.offset + entry.idCount
        let payloadStart = streamStart + entry.streamCount
        return PendingView(
            id: UnsafeRawBufferPointer(rebasing: base[entry.offset..<streamStart]),
            stream: UnsafeRawBufferPointer(rebasing: base[streamStart..<payloadStart]),
            payload: UnsafeRawBufferPointer(rebasing: base[payloadStart..<payloadStart + entry.payloadCount]),
            expectedVersion: nil, attachment: nil)
    }

    private func view(_ entry: Entry, _ extra: Extras, in base: UnsafeRawBufferPointer) -> PendingView {
        let plain = view(entry, in: base)
        return PendingView(id: plain.id, stream: plain.stream, payload: plain.payload, expectedVersion: extra.expectedVersion, attachment: extra.attachment)
    }
}

/// A pending record read in place (in a `PendingBatch`, or a `PendingRecord`'s storage):
/// valid only inside the closure that receives it.
public struct PendingView {
    public let id: UnsafeRawBufferPointer
    public let stream: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    public let expectedVersion: Int?
    public let attachment: (any RecordAttachment)?

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var streamString: String { String(decoding: stream, as: UTF8.self) }

    public func copy() -> PendingRecord {
        PendingRecord(id: idString, stream: streamString, payload: Array(payload), expectedVersion: expectedVersion, attachment: attachment)
    }
}

extension PendingRecord {
    /// Calls `body` with a view of this record.
    public func withView<R>(_ body: (PendingView) throws -> R) rethrows -> R {
        try id.withUTF8Bytes { id in
            try stream.withUTF8Bytes { stream in
                try payload.withUnsafeBytes { payload in
                    try body(PendingView(id: id, stream: stream, payload: payload, expectedVersion: expectedVersion, attachment: attachment))
                }
            }
        }
    }
}
