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

    /// What only some records carry (see `PendingRecord`).
    struct Extras: Sendable {
        var expectedVersion: Int?
        var attachment: (any Sendable)?
    }

    private(set) var bytes: [UInt8] = []
    private(set) var entries: [Entry] = []
    /// Empty while no record has extras; then one per record, `nil` for those without.
    private var extras: [Extras?] = []
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

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// The ids, streams and payloads in bytes.
    public var byteCount: Int { bytes.count }

    public mutating func append(_ record: PendingRecord) {
        record.withView { append(id: $0.id, stream: $0.stream, payload: $0.payload) }
        if record.expectedVersion != nil || record.attachment != nil {
            if extras.count < entries.count { extras.append(contentsOf: repeatElement(nil, count: entries.count - extras.count)) }
            extras[entries.count - 1] = Extras(expectedVersion: record.expectedVersion, attachment: record.attachment)
            hasExpectedVersions = hasExpectedVersions || record.expectedVersion != nil
        }
    }

    /// Appends a record given as bytes (copied).
    public mutating func append(id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        entries.append(Entry(offset: bytes.count, idCount: id.count, streamCount: stream.count, payloadCount: payload.count))
        bytes.append(contentsOf: id)
        bytes.append(contentsOf: stream)
        bytes.append(contentsOf: payload)
        if !extras.isEmpty { extras.append(nil) }
    }

    /// The record at `index`, copied out.
    public subscript(index: Int) -> PendingRecord {
        withView(at: index) { $0.copy() }
    }

    /// Calls `body` with a view of the record at `index`.
    public func withView<R>(at index: Int, _ body: (PendingView) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(view(index, in: $0)) }
    }

    /// Calls `body` with a view of each record in order (and its index).
    public func forEachView(_ body: (Int, PendingView) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { base in
            try entries.withUnsafeBufferPointer { entries in
                for index in entries.indices {
                    try body(index, view(entries[index], index, in: base))
                }
            }
        }
    }

    private func view(_ index: Int, in base: UnsafeRawBufferPointer) -> PendingView {
        view(entries[index], index, in: base)
    }

    private func view(_ entry: Entry, _ index: Int, in base: UnsafeRawBufferPointer) -> PendingView {
        let streamStart = entry.offset + entry.idCount
        let payloadStart = streamStart + entry.streamCount
        let id = UnsafeRawBufferPointer(rebasing: base[entry.offset..<streamStart])
        let stream = UnsafeRawBufferPointer(rebasing: base[streamStart..<payloadStart])
        let payload = UnsafeRawBufferPointer(rebasing: base[payloadStart..<payloadStart + entry.payloadCount])
        // (Bulk ingest's batches have no extras: no optional to copy per record.)
        guard index < extras.count, let extra = extras[index] else {
            return PendingView(id: id, stream: stream, payload: payload, expectedVersion: nil, attachment: nil)
        }
        return PendingView(id: id, stream: stream, payload: payload, expectedVersion: extra.expectedVersion, attachment: extra.attachment)
    }
}

/// A pending record read in place (in a `PendingBatch`, or a `PendingRecord`'s storage):
/// valid only inside the closure that receives it.
public struct PendingView {
    public let id: UnsafeRawBufferPointer
    public let stream: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    public let expectedVersion: Int?
    public let attachment: (any Sendable)?

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
