internal import CSHA256
import Crypto
import LMDB

/// What an appender hands the append hook along with a record (`PendingRecord.attachment`):
/// an object, so that passing one around is a retain and reading it back a class check
/// (an existential of any `Sendable` value is copied and cast through the runtime's generic
/// witnesses, which cost more than applying a touch).
public typealias RecordAttachment = AnyObject & Sendable

/// What a caller hands the log: an idempotency key, the stream (for LeadLedger: the lead) the
/// record belongs to, and an opaque payload. The log knows nothing else about it.
public struct PendingRecord: Sendable {
    /// Unique per record across the whole log; a second append with the same id stores
    /// nothing and is reported as a duplicate.
    public var id: String
    /// The stream the record belongs to; `records(stream:)` reads a stream in log order.
    public var stream: String
    public var payload: [UInt8]
    /// When set, the record is stored only if the stream holds exactly this many records
    /// before it (optimistic concurrency); otherwise the outcome is `.conflict`.
    public var expectedVersion: Int?
    /// Anything the append hook wants to see again without decoding the payload (for
    /// LeadLedger, the already-parsed event, boxed). Not stored.
    public var attachment: (any RecordAttachment)?

    public init(id: String, stream: String, payload: [UInt8], expectedVersion: Int? = nil, attachment: (any RecordAttachment)? = nil) {
        self.id = id
        self.stream = stream
        self.payload = payload
        self.expectedVersion = expectedVersion
        self.attachment = attachment
    }
}

/// What became of one pending record.
public enum AppendOutcome: Sendable, Hashable {
    case appended(position: UInt64)
    /// The id was already in the log, at this position; nothing was stored.
    case duplicate(position: UInt64)
    /// The append hook refused the record, for this reason; nothing was stored.
    case rejected(reason: String)
    /// `expectedVersion` did not match the stream's version.
    case conflict(expected: Int, actual: Int)

    public var position: UInt64? {
        if case .appended(let position) = self { return position }
        return nil
    }
}

/// A stored record viewed in place in the memory map: valid only inside the closure that
/// receives it. Decoding the payload from here avoids copying it.
public struct RecordView {
    public let position: UInt64
    /// Milliseconds since 1970-01-01T00:00:00Z when the log stored the record.
    public let recordedAt: Int64
    public let hash: UnsafeRawBufferPointer
    public let id: UnsafeRawBufferPointer
    public let stream: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    /// The bytes the hash covers, after the hash itself.
    let body: UnsafeRawBufferPointer
    /// The whole stored value (format version, hash, body), as it sits in the map.
    public let stored: UnsafeRawBufferPointer
    let formatVersion: UInt8

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var streamString: String { String(decoding: stream, as: UTF8.self) }

    public func copy() -> StoredRecord {
        StoredRecord(
            position: position, recordedAt: recordedAt, hash: Array(hash),
            id: idString, stream: streamString, payload: Array(payload))
    }
}

/// A stored record, copied out of the map.
public struct StoredRecord: Sendable, Hashable {
    public let position: UInt64
    public let recordedAt: Int64
    public let hash: [UInt8]
    public let id: String
    public let stream: String
    public let payload: [UInt8]
}

/// The on-disk layout of a record (the value under its big-endian position key):
///
///     u8      format version (1)
///     [32]    SHA-256( previous hash ‖ position (BE u64) ‖ format version ‖ body )
///     body:   i64 LE recordedAt ms ‖ u16 LE id length ‖ id ‖ u16 LE stream length ‖ stream ‖ payload
///
/// The first record's previous hash is 32 zero bytes.
enum RecordFormat {
    static let version: UInt8 = 1
    static let hashSize = 32
    static let headerSize = 1 + hashSize
    static let maxKeyBytes = 480

    static func size(idBytes: Int, streamBytes: Int, payloadBytes: Int) -> Int {
        headerSize + 8 + 2 + idBytes + 2 + streamBytes + payloadBytes
    }

    /// Writes a whole record into `out` (exactly `size(...)` bytes) and returns its hash.
    static func write(
        into out: UnsafeMutableRawBufferPointer, position: UInt64, previousHash: ChainHash,
        recordedAt: Int64, id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer
    ) -> ChainHash {
        layOut(into: out, recordedAt: recordedAt, id: id, stream: stream, payload: payload)
        return seal(out, position: position, previousHash: previousHash)
    }

    /// Writes a record into `out` (exactly `size(...)` bytes) except its hash (`seal`).
    static func layOut(
        into out: UnsafeMutableRawBufferPointer, recordedAt: Int64,
        id: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer
    ) {
        var offset = 0
        out.storeBytes(of: version, toByteOffset: 0, as: UInt8.self)
        offset = headerSize
        out.storeBytes(of: recordedAt.littleEndian, toByteOffset: offset, as: Int64.self)
        offset += 8
        out.storeBytes(of: UInt16(id.count).littleEndian, toByteOffset: offset, as: UInt16.self)
        offset += 2
        UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + id.count]).copyMemory(from: id)
        offset += id.count
        out.storeBytes(of: UInt16(stream.count).littleEndian, toByteOffset: offset, as: UInt16.self)
        offset += 2
        UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + stream.count]).copyMemory(from: stream)
        offset += stream.count
        UnsafeMutableRawBufferPointer(rebasing: out[offset..<offset + payload.count]).copyMemory(from: payload)
    }

    /// Computes a laid-out record's place in the chain, writes it into the record, returns it.
    static func seal(_ out: UnsafeMutableRawBufferPointer, position: UInt64, previousHash: ChainHash) -> ChainHash {
        let body = UnsafeRawBufferPointer(rebasing: out[headerSize...])
        let digest = chainHash(previous: previousHash, position: position, formatVersion: out[0], body: body)
        digest.withBytes { hash in
            UnsafeMutableRawBufferPointer(rebasing: out[1..<headerSize]).copyMemory(from: hash)
        }
        return digest
    }

    /// The bytes a record's hash covers before its body: previous hash, position, version.
    static let chainPrefixSize = hashSize + 8 + 1
    /// `seal` for a record that has `chainPrefixSize - headerSize` spare bytes before it: the
    /// hash input is assembled in place (overwriting the record's header, then rewriting it)
    /// and hashed in one pass.
    static func seal(inPlace out: UnsafeMutableRawBufferPointer, position: UInt64, previousHash: ChainHash) -> ChainHash {
        let room = chainPrefixSize - headerSize
        let start = out.baseAddress! - room
        let version = out[0]
        previousHash.withBytes { UnsafeMutableRawPointer(start).copyMemory(from: $0.baseAddress!, byteCount: hashSize) }
        (start + hashSize).storeBytes(of: position.bigEndian, as: UInt64.self)
        (start + hashSize + 8).storeBytes(of: version, as: UInt8.self)
        let digest = ChainHash.sha256(UnsafeRawBufferPointer(start: start, count: room + out.count))
        out[0] = version
        digest.withBytes { UnsafeMutableRawBufferPointer(rebasing: out[1..<headerSize]).copyMemory(from: $0) }
        return digest
    }

    static func chainHash(previous: ChainHash, position: UInt64, formatVersion: UInt8, body: UnsafeRawBufferPointer) -> ChainHash {
        // The input laid out contiguously (on the stack when it is small) and hashed in one
        // pass, as `seal(inPlace:)` does where the record has room before it.
        withUnsafeTemporaryAllocation(byteCount: chainPrefixSize + body.count, alignment: 8) { input in
            previous.withBytes { input.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: hashSize) }
            (input.baseAddress! + hashSize).storeBytes(of: position.bigEndian, as: UInt64.self)
            (input.baseAddress! + hashSize + 8).storeBytes(of: formatVersion, as: UInt8.self)
            if body.count > 0 { (input.baseAddress! + chainPrefixSize).copyMemory(from: body.baseAddress!, byteCount: body.count) }
            return ChainHash.sha256(UnsafeRawBufferPointer(input))
        }
    }

    /// The stream bytes of a stored record; `nil` when its lengths overrun it.
    static func stream(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let idLength = headerSize + 8
        guard bytes.count >= idLength + 2 else { return nil }
        let streamLength = idLength + 2 + Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: idLength, as: UInt16.self)))
        guard bytes.count >= streamLength + 2 else { return nil }
        let start = streamLength + 2
        let end = start + Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: streamLength, as: UInt16.self)))
        guard end <= bytes.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// The id bytes of a laid-out record.
    static func id(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let offset = headerSize + 8
        let count = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        return UnsafeRawBufferPointer(rebasing: bytes[offset + 2..<offset + 2 + count])
    }

    /// Parses a stored value; `nil` when its structure is broken (lengths that overrun).
    static func view(position: UInt64, bytes: UnsafeRawBufferPointer) -> RecordView? {
        guard bytes.count >= headerSize + 12 else { return nil }
        let version = bytes[0]
        var offset = headerSize
        let recordedAt = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
        offset += 8
        let idCount = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        offset += 2
        guard offset + idCount + 2 <= bytes.count else { return nil }
        let id = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + idCount])
        offset += idCount
        let streamCount = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        offset += 2
        guard offset + streamCount <= bytes.count else { return nil }
        let stream = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + streamCount])
        offset += streamCount
        return RecordView(
            position: position, recordedAt: recordedAt,
            hash: UnsafeRawBufferPointer(rebasing: bytes[1..<headerSize]),
            id: id, stream: stream,
            payload: UnsafeRawBufferPointer(rebasing: bytes[offset...]),
            body: UnsafeRawBufferPointer(rebasing: bytes[headerSize...]),
            stored: bytes,
            formatVersion: version)
    }
}

/// A SHA-256 value of the chain, kept inline (no allocation per record).
struct ChainHash: Equatable, Sendable {
    /// The hash before the first record.
    static let genesis = ChainHash(words: (0, 0, 0, 0))

    private var words: (UInt64, UInt64, UInt64, UInt64)

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a chain hash is 32 bytes")
        words = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: words, body)
    }

    /// Whether this CPU hashes with its SHA extensions (`CSHA256`), else with swift-crypto.
    static let hardware = leadledger_sha256_hw_available() != 0

    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: UnsafeRawBufferPointer) -> ChainHash {
        guard hardware else {
            var hasher = SHA256()
            hasher.update(bufferPointer: bytes)
            return hasher.finalize().withUnsafeBytes { ChainHash(bytes: $0) }
        }
        var digest = ChainHash.genesis
        withUnsafeMutableBytes(of: &digest.words) { out in
            leadledger_sha256_hw(bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    static func == (lhs: ChainHash, rhs: ChainHash) -> Bool {
        lhs.words == rhs.words
    }
}

/// The key under which an id is indexed: its UTF-8 bytes, or for ids longer than LMDB's key
/// limit allows comfortably, 0xFF followed by their SHA-256 (0xFF never occurs in UTF-8, so
/// the two forms cannot collide).
enum IDKey {
    /// Whether an id is its own key (not hashed), so that ids and keys sort alike.
    static func isOwnKey(_ id: UnsafeRawBufferPointer) -> Bool {
        id.count <= 255
    }

    static func withKey<R>(_ id: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if isOwnKey(id) {
            return try body(id)
        }
        var bytes: [UInt8] = [0xFF]
        bytes.append(contentsOf: SHA256.hash(data: id))
        return try bytes.withUnsafeBytes(body)
    }
}
