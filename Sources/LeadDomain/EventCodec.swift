import LedgerJSON

/// The compact stored form of an event's payload. The id and the lead are not repeated here:
/// the log keeps them as the record's id and stream.
///
///     u8      codec version (1)
///     u8      event type code
///     i64 LE  at, microseconds since the epoch
///     value   actor: a string or null
///     value   data: an object
///
/// A value is a tag byte and its content: 0 null, 1 false, 2 true, 3 f64 LE, 4 string
/// (varint length, UTF-8), 5 array (varint count, values), 6 object (varint count, then
/// key and value per member), 7 i32 LE (integral numbers that fit, the common case), 8 a
/// sealed personal value (varint length, content: see `SealedValue`).
/// A key is one byte: 0x80 + n for the n-th well-known name, else its length (< 0x7F) and
/// bytes, or 0x7F, a varint length and bytes.
public enum EventCodec {
    public static let version: UInt8 = 1

    /// Member names common enough to store as one byte. Append only: the index is stored.
    static let knownKeys: [String] = [
        "channel", "campaign", "content", "url", "medium", "source",
        "email", "firstName", "lastName", "title", "company", "domain", "industry", "employees",
        "annualRevenue", "country", "region", "reason", "note", "from", "to", "score",
        "rulesVersion", "by", "recycle", "opportunity", "amount", "currency", "outcome", "version",
    ]
    static let knownKeyCodes: [String: UInt8] = Dictionary(
        uniqueKeysWithValues: knownKeys.enumerated().map { ($1, UInt8(0x80 + $0)) })

    /// The one-byte code of a well-known member name, without hashing the name (this runs
    /// for every member of every ingested event): candidates by length, then a comparison.
    static func knownKeyCode(_ key: String) -> UInt8? {
        let count = key.utf8.count
        guard count < knownKeysByLength.count else { return nil }
        for candidate in knownKeysByLength[count] where candidate.name == key { return candidate.code }
        return nil
    }

    /// The same lookup for a name still in its input bytes (`EventTranscoder`), so the fast
    /// ingest path and `encode` assign codes from one table.
    /// (It runs for every `data` member ingested: the candidates of the name's length are
    /// compared as two words each, not with `memcmp`.)
    @usableFromInline package static func knownKeyCode(_ key: UnsafeRawBufferPointer) -> UInt8? {
        let count = key.count
        guard count < knownKeySignatures.count, let start = key.baseAddress else { return nil }
        let signature = keySignature(start, count)
        for candidate in knownKeySignatures[count] where candidate.signature == signature {
            return candidate.code
        }
        return nil
    }

    /// Two words that, with its length, identify a name of at most 16 bytes: its first and
    /// its last (up to) eight bytes, read with loads that overlap when it is shorter.
    @inline(__always)
    static func keySignature(_ base: UnsafeRawPointer, _ count: Int) -> KeySignature {
        switch count {
        case 8...16:
            return KeySignature(first: base.loadUnaligned(as: UInt64.self), last: (base + count - 8).loadUnaligned(as: UInt64.self))
        case 4...7:
            return KeySignature(
                first: UInt64(base.loadUnaligned(as: UInt32.self)), last: UInt64((base + count - 4).loadUnaligned(as: UInt32.self)))
        case 2...3:
            return KeySignature(
                first: UInt64(base.loadUnaligned(as: UInt16.self)), last: UInt64((base + count - 2).loadUnaligned(as: UInt16.self)))
        case 1:
            return KeySignature(first: UInt64(base.load(as: UInt8.self)), last: 0)
        default:
            return KeySignature(first: 0, last: 0)
        }
    }

    struct KeySignature: Equatable {
        var first: UInt64
        var last: UInt64
    }

    /// `knownKeysByLength` as signatures.
    static let knownKeySignatures: [[(signature: KeySignature, code: UInt8)]] = knownKeysByLength.enumerated().map { count, candidates in
        candidates.map { candidate in
            (candidate.bytes.withUnsafeBytes { keySignature($0.baseAddress!, count) }, candidate.code)
        }
    }

    static let knownKeysByLength: [[(name: String, bytes: [UInt8], code: UInt8)]] = {
        var table = Array(repeating: [(name: String, bytes: [UInt8], code: UInt8)](), count: 16)
        for (index, name) in knownKeys.enumerated() where name.utf8.count < 16 {
            table[name.utf8.count].append((name, Array(name.utf8), UInt8(0x80 + index)))
        }
        return table
    }()

    public static func encode(_ event: Envelope) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + event.data.count * 24)
        writeHeader(type: event.type, at: event.at, into: &out)
        if let actor = event.actor {
            writeString(actor, into: &out)
        } else {
            out.append(Tag.null)
        }
        writeObject(event.data, into: &out)
        return out
    }

    /// The fixed ten bytes every payload starts with: version, type code, time.
    @inlinable package static func writeHeader(type: EventType, at: Timestamp, into out: inout some ByteSink) {
        out.append(version)
        out.append(type.code)
        withUnsafeBytes(of: at.microseconds.littleEndian) { out.append(bytes: $0) }
    }

    /// The type and time of a stored event, without decoding the rest.
    public static func header(_ payload: UnsafeRawBufferPointer) throws(CodecError) -> (type: EventType, at: Timestamp) {
        guard payload.count >= 10, payload[0] == version else { throw CodecError("unknown payload version or truncated header") }
        guard let type = EventType(code: payload[1]) else { throw CodecError("unknown event type code \(payload[1])") }
        let at = Int64(littleEndian: payload.loadUnaligned(fromByteOffset: 2, as: Int64.self))
        return (type, Timestamp(microseconds: at))
    }

    public static func decode(_ payload: UnsafeRawBufferPointer, id: String, lead: String) throws(CodecError) -> Envelope {
        let (type, at) = try header(payload)
        var reader = Reader(bytes: payload, index: 10)
        let actor: String?
        switch try reader.readValue() {
        case .string(let value): actor = value
        case .null: actor = nil
        default: throw CodecError("actor is neither a string nor null")
        }
        guard case .object(let data) = try reader.readValue() else { throw CodecError("data is not an object") }
        guard reader.index == payload.count else { throw CodecError("trailing bytes after the event") }
        return Envelope(id: id, type: type, lead: type.isLeadEvent ? lead : nil, at: at, actor: actor, data: data)
    }

    /// An object as `writeObject` wrote it: a capture's stored data, a lead's profile.
    public static func decodeObject(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> JSONObject {
        var reader = Reader(bytes: bytes, index: 0)
        guard case .object(let object) = try reader.readValue() else { throw CodecError("data is not an object") }
        guard reader.index == bytes.count else { throw CodecError("trailing bytes after the object") }
        return object
    }

    @usableFromInline package enum Tag {
        @usableFromInline package static let null: UInt8 = 0
        @usableFromInline package static let `false`: UInt8 = 1
        @usableFromInline package static let `true`: UInt8 = 2
        @usableFromInline package static let double: UInt8 = 3
        @usableFromInline package static let string: UInt8 = 4
        @usableFromInline package static let array: UInt8 = 5
        @usableFromInline package static let object: UInt8 = 6
        @usableFromInline package static let int32: UInt8 = 7
        @usableFromInline package static let sealed: UInt8 = 8
    }

    static func writeValue(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null)
        case .bool(let flag): out.append(flag ? Tag.true : Tag.false)
        case .number(let number): writeNumber(number, into: &out)
        case .string(let string): writeString(string, into: &out)
        case .array(let elements):
            out.append(Tag.array)
            writeVarint(elements.count, into: &out)
            for element in elements { writeValue(element, into: &out) }
        case .object(let object): writeObject(object, into: &out)
        }
    }

    static func writeObject(_ object: JSONObject, into out: inout [UInt8]) {
        out.append(Tag.object)
        writeVarint(object.count, into: &out)
        for member in object {
            if let code = knownKeyCode(member.key) {
                out.append(code)
            } else {
                writeKeyLength(member.key.utf8.count, into: &out)
                out.append(contentsOf: member.key.utf8)
            }
            writeValue(member.value, into: &out)
        }
    }

    /// The length prefix of a member name that has no one-byte code; its bytes follow.
    @inlinable package static func writeKeyLength(_ count: Int, into out: inout some ByteSink) {
        if count < 0x7F {
            out.append(UInt8(count))
        } else {
            out.append(0x7F)
            writeVarint(count, into: &out)
        }
    }

    /// A JSON number: the int32 form when it is integral and fits, else the f64 bits.
    @inlinable package static func writeNumber(_ number: Double, into out: inout some ByteSink) {
        if let small = Int32(exactly: number) {
            out.append(Tag.int32)
            withUnsafeBytes(of: small.littleEndian) { out.append(bytes: $0) }
        } else {
            out.append(Tag.double)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(bytes: $0) }
        }
    }

    static func writeString(_ string: String, into out: inout [UInt8]) {
        if SealedValue.mayBeToken(string), let content = SealedValue.content(ofToken: string) {
            out.append(Tag.sealed)
            writeVarint(content.count, into: &out)
            out.append(contentsOf: content)
            return
        }
        out.append(Tag.string)
        writeVarint(string.utf8.count, into: &out)
        out.append(contentsOf: string.utf8)
    }

    /// A string value from UTF-8 bytes (the transcoder's input, already checked).
    @inlinable package static func writeString(utf8 bytes: UnsafeRawBufferPointer, into out: inout some ByteSink) {
        out.append(Tag.string)
        writeVarint(bytes.count, into: &out)
        out.append(bytes: bytes)
    }

    @inlinable package static func writeVarint(_ value: Int, into out: inout some ByteSink) {
        writeVarint(UInt64(value), into: &out)
    }

    @inlinable package static func writeVarint(_ value: UInt64, into out: inout some ByteSink) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index: Int

        mutating func byte() throws(CodecError) -> UInt8 {
            guard index < bytes.count else { throw CodecError("truncated payload") }
            defer { index += 1 }
            return bytes[index]
        }

        /// A length or a count: it cannot exceed the bytes there are.
        @inline(__always)
        mutating func varint() throws(CodecError) -> Int {
            // One byte (below 128): nearly every length and count, read inline.
            if index < bytes.count {
                let first = Int(bytes[index])
                if first < 0x80 && first <= bytes.count {
                    index += 1
                    return first
                }
            }
            return try multiByteVarint()
        }

        private mutating func multiByteVarint() throws(CodecError) -> Int {
            let result = try rawVarint()
            guard result <= UInt64(bytes.count) else { throw CodecError("length \(result) beyond the payload") }
            return Int(result)
        }

        mutating func rawVarint() throws(CodecError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
                guard shift < 64 else { throw CodecError("varint overflow") }
            }
        }

        /// An interned id.
        mutating func id() throws(CodecError) -> UInt32 {
            let value = try rawVarint()
            guard value <= UInt64(UInt32.max) else { throw CodecError("id \(value) out of range") }
            return UInt32(value)
        }

        mutating func utf8(count: Int) throws(CodecError) -> String {
            guard index + count <= bytes.count else { throw CodecError("truncated string") }
            defer { index += count }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<index + count]), as: UTF8.self)
        }

        mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws(CodecError) -> T {
            let size = MemoryLayout<T>.size
            guard index + size <= bytes.count else { throw CodecError("truncated number") }
            defer { index += size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: T.self))
        }

        mutating func readValue(depth: Int = 0) throws(CodecError) -> JSONValue {
            guard depth <= 64 else { throw CodecError("nesting too deep") }
            switch try byte() {
            case Tag.null: return .null
            case Tag.false: return .bool(false)
            case Tag.true: return .bool(true)
            case Tag.int32: return .number(Double(try fixed(Int32.self)))
            case Tag.double: return .number(Double(bitPattern: try fixed(UInt64.self)))
            case Tag.string: return .string(try utf8(count: try varint()))
            case Tag.sealed: return .string(SealedValue.token(try slice(count: try varint())))
            case Tag.array:
                let count = try varint()
                var elements: [JSONValue] = []
                elements.reserveCapacity(count)
                for _ in 0..<count { elements.append(try readValue(depth: depth + 1)) }
                return .array(elements)
            case Tag.object:
                let count = try varint()
                var members: [(key: String, value: JSONValue)] = []
                members.reserveCapacity(count)
                for _ in 0..<count {
                    let keyByte = try byte()
                    let key: String
                    if keyByte >= 0x80 {
                        let index = Int(keyByte - 0x80)
                        guard index < knownKeys.count else { throw CodecError("unknown key code \(keyByte)") }
                        key = knownKeys[index]
                    } else if keyByte == 0x7F {
                        key = try utf8(count: try varint())
                    } else {
                        key = try utf8(count: Int(keyByte))
                    }
                    members.append((key: key, value: try readValue(depth: depth + 1)))
                }
                return .object(JSONObject(members))
            case let tag:
                throw CodecError("unknown value tag \(tag)")
            }
        }
    }
}

public struct CodecError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { "cannot decode stored event: \(message)" }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `EventCodec` writes a payload: a growing array (the general path), or memory reserved
/// for the whole payload in advance (`ReservedBytes`, the transcoder's).
@usableFromInline package protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeRawBufferPointer)
}

extension Array: ByteSink where Element == UInt8 {
    @inlinable package mutating func append(bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes)
    }
}

/// Memory reserved for a whole payload (or other encoded value), written without an array's
/// growth and uniqueness checks. Whoever reserves it knows an upper bound of what will be
/// written; going past it is a bug, caught here before any byte lands outside.
@usableFromInline package struct ReservedBytes: ByteSink {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline package private(set) var count = 0

    package init(_ memory: UnsafeMutableRawBufferPointer) {
        base = memory.baseAddress!
        capacity = memory.count
    }

    @inlinable package mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "a payload outgrew the memory reserved for it")
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inlinable package mutating func append(bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= capacity, "a payload outgrew the memory reserved for it")
        if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
        count += bytes.count
    }

    /// A fixed-width integer's bytes, least significant first.
    @inlinable package mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        let size = MemoryLayout<T>.size
        precondition(count + size <= capacity, "a payload outgrew the memory reserved for it")
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += size
    }

    @usableFromInline package var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
