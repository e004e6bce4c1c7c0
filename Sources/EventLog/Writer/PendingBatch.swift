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
    /// What the writer passes to the sealer's `makeDurable` before it commits the batch
    /// (a batch sealed before it was appended, see `EventLog.seal`).
    var durabilityMark: UInt64 = 0

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
        durabilityMark = 0
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
        reserve(total)
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

    /// Appends a record whose payload `write` writes in place, into memory for at most
    /// `payloadCapacity` bytes, returning how many it wrote (a payload rewritten on its way in,
    /// without an array of its own). Nothing is appended if `write` throws.
    public mutating func append(
        id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payloadCapacity: Int,
        write: (UnsafeMutableRawBufferPointer) throws -> Int
    ) rethrows {
        // (Exactly: the runs copied after it append their bytes without zeros first.)
        reserve(id.count + stream.count + payloadCapacity, exactly: true)
        let start = used
        let payloadStart = start + id.count + stream.count
        let written = try bytes.withUnsafeMutableBytes { out in
            if let source = id.baseAddress { (out.baseAddress! + start).copyMemory(from: source, byteCount: id.count) }
            if let source = stream.baseAddress { (out.baseAddress! + start + id.count).copyMemory(from: source, byteCount: stream.count) }
            return try write(UnsafeMutableRawBufferPointer(rebasing: out[payloadStart..<payloadStart + payloadCapacity]))
        }
        precondition(written <= payloadCapacity, "a payload outgrew the memory reserved for it")
        entries.append(Entry(offset: start, idCount: id.count, streamCount: stream.count, payloadCount: written))
        used = payloadStart + written
    }

    /// Appends the records `range` of `other` (one copy of their bytes), with their extras.
    public mutating func append(contentsOf other: PendingBatch, records range: Range<Int>) {
        guard !range.isEmpty else { return }
        let first = other.entries[range.lowerBound]
        let last = other.entries[range.upperBound - 1]
        let end = last.offset + last.idCount + last.streamCount + last.payloadCount
        let start = used
        // (Into the room already counted, then appended: no zeros written first.)
        other.bytes.withUnsafeBufferPointer { source in
            let run = UnsafeBufferPointer(rebasing: source[first.offset..<end])
            let inPlace = min(bytes.count - start, run.count)
            bytes.withUnsafeMutableBufferPointer { out in
                _ = UnsafeMutableBufferPointer(rebasing: out[start..<start + inPlace]).update(fromContentsOf: run[..<inPlace])
            }
            if inPlace < run.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: run[inPlace...])) }
        }
        used += end - first.offset
        let shift = start - first.offset
        let firstIndex = entries.count
        other.entries.withUnsafeBufferPointer { source in
            for index in range {
                var moved = source[index]
                moved.offset += shift
                entries.append(moved)
            }
        }
        // (Extras are in index order: the first of the run found by bisection, so that a
        // batch copied in many runs is not scanned once per run.)
        var low = 0
        var high = other.extras.count
        while low < high {
            let middle = (low + high) / 2
            if other.extras[middle].index < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        while low < other.extras.count, other.extras[low].index < range.upperBound {
            let extra = other.extras[low]
            extras.append(Extras(index: firstIndex + extra.index - range.lowerBound, expectedVersion: extra.expectedVersion, attachment: extra.attachment))
            hasExpectedVersions = hasExpectedVersions || extra.expectedVersion != nil
            low += 1
        }
    }

    /// Room for `count` more bytes after `used` (`exactly`: no more, if there is not).
    private mutating func reserve(_ count: Int, exactly: Bool = false) {
        guard bytes.count - used < count else { return }
        if exactly, count - (bytes.count - used) <= Self.zeros.count {
            bytes.append(contentsOf: Self.zeros[..<(count - (bytes.count - used))])
            return
        }
        // (Zeros a chunk at a time: the memory a batch reserved is touched as it fills.
        // Copied from a chunk of zeros made once: appending a repeated element goes
        // element by element in a debug build, 16 ms a chunk, which kept the tests'
        // appenders from ever getting ahead of the writer.)
        // (Small at first, doubling to a whole chunk: a batch of one event, a server's
        // request, then costs no 64 KiB.)
        let grow = min(Self.zeros.count, max(bytes.count, 512))
        if count <= grow {
            bytes.append(contentsOf: Self.zeros[..<grow])
        } else {
            bytes.append(contentsOf: [UInt8](repeating: 0, count: count))
        }
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
