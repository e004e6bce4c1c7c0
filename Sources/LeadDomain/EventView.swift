import LedgerJSON

/// A stored event read in place, without materialising its data: the type and time at fixed
/// offsets, and single `data` fields found by scanning the encoded object. Replays use it
/// for the frequent events (touches) and decode the whole event only when they need it.
public struct EventView {
    public let type: EventType
    public let at: Timestamp
    let payload: UnsafeRawBufferPointer
    /// Offset of the data object's tag.
    let dataOffset: Int

    public init(_ payload: UnsafeRawBufferPointer) throws(CodecError) {
        let (type, at) = try EventCodec.header(payload)
        self.type = type
        self.at = at
        self.payload = payload
        var reader = EventCodec.Reader(bytes: payload, index: 10)
        try reader.skipStringOrValue()  // actor
        guard reader.index < payload.count, payload[reader.index] == EventCodec.Tag.object else {
            throw CodecError("data is not an object")
        }
        dataOffset = reader.index
    }

    /// The actor (a string, or null).
    public var actor: String? {
        var reader = EventCodec.Reader(bytes: payload, index: 10)
        guard (try? reader.byte()) == EventCodec.Tag.string, let length = try? reader.varint(), length <= payload.count - reader.index else {
            return nil
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: payload[reader.index..<reader.index + length]), as: UTF8.self)
    }

    /// The encoded data object (the rest of the payload), as `EventCodec.writeObject` wrote it.
    public var encodedData: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: payload[dataOffset...])
    }

    /// The one-byte codes of the well-known fields replays read: fixed, as the stored codes
    /// are (`EventCodec.knownKeys` is append-only; a test checks these against it). Literal
    /// constants, so that testing a member's code is a compare with an immediate, not a read
    /// of a global (a `swift_once` check, and four values kept in registers or spilled).
    public enum Key {
        public static let channel: UInt8 = 0x80
        public static let campaign: UInt8 = 0x81
        public static let content: UInt8 = 0x82
        public static let source: UInt8 = 0x85
    }

    /// Whether `data` has a `channel` member, given its `touchFields` (which see only string
    /// values): a capture with one is a touch too.
    public func hasChannel(_ fields: TouchFields) -> Bool {
        fields.channel != nil || value(Self.channelField) != nil
    }

    private static let channelField = Field("channel")

    /// The string fields a touchpoint keeps, found in one pass over `data`.
    public struct TouchFields {
        public var channel: UnsafeRawBufferPointer?
        public var campaign: UnsafeRawBufferPointer?
        public var content: UnsafeRawBufferPointer?
        public var source: UnsafeRawBufferPointer?

        /// Keeps a string member's value if its name (one-byte code) is one of the four.
        @inline(__always)
        mutating func set(_ keyByte: UInt8, _ value: UnsafeRawBufferPointer) {
            switch keyByte {
            case Key.channel: channel = value
            case Key.campaign: campaign = value
            case Key.content: content = value
            case Key.source: source = value
            default: break
            }
        }
    }

    public var touchFields: TouchFields {
        var fields = TouchFields()
        let bytes = payload
        let end = bytes.count
        guard let base = bytes.baseAddress else { return fields }
        // Read with plain loads: every member name here is a one-byte code and every value a
        // string shorter than 128 bytes (a one-byte length). Anything else — a name spelled
        // out, a longer value, another type — goes through the general reader, from the same
        // member on.
        var index = dataOffset + 1
        guard index < end else { return fields }
        var remaining = Int(base.load(fromByteOffset: index, as: UInt8.self))
        guard remaining < 0x80 else { return touchFields(from: dataOffset + 1, into: fields) }
        index += 1
        while remaining > 0 {
            guard index + 3 <= end else { return fields }
            let keyByte = base.load(fromByteOffset: index, as: UInt8.self)
            let tag = base.load(fromByteOffset: index + 1, as: UInt8.self)
            let length = Int(base.load(fromByteOffset: index + 2, as: UInt8.self))
            guard keyByte >= 0x80, tag == EventCodec.Tag.string, length < 0x80 else {
                return touchFields(members: remaining, at: index, into: fields)
            }
            let start = index + 3
            guard length <= end - start else { return fields }
            fields.set(keyByte, UnsafeRawBufferPointer(start: base + start, count: length))
            index = start + length
            remaining -= 1
        }
        return fields
    }

    /// `touchFields` through the general reader: the member count at `countOffset`.
    private func touchFields(from countOffset: Int, into fields: TouchFields) -> TouchFields {
        var reader = EventCodec.Reader(bytes: payload, index: countOffset)
        guard let count = try? reader.varint() else { return fields }
        return touchFields(members: count, at: reader.index, into: fields)
    }

    /// `touchFields` through the general reader, for the `count` members from `offset`.
    private func touchFields(members count: Int, at offset: Int, into found: TouchFields) -> TouchFields {
        var fields = found
        var reader = EventCodec.Reader(bytes: payload, index: offset)
        for _ in 0..<count {
            guard reader.index < payload.count else { return fields }
            let keyByte = payload[reader.index]
            reader.index += 1
            if keyByte < 0x80 {
                guard let length = keyByte == 0x7F ? try? reader.varint() : Int(keyByte) else { return fields }
                reader.index += length
            }
            guard reader.index < payload.count else { return fields }
            if payload[reader.index] == EventCodec.Tag.string {
                reader.index += 1
                guard let length = try? reader.varint(), length <= payload.count - reader.index else { return fields }
                fields.set(keyByte, UnsafeRawBufferPointer(rebasing: payload[reader.index..<reader.index + length]))
                reader.index += length
            } else {
                guard (try? reader.skipValue()) != nil else { return fields }
            }
        }
        return fields
    }

    /// A member name of `data`, with its one-byte stored code looked up once (for lookups
    /// repeated on every event, such as scoring rules' fields).
    public struct Field: Sendable {
        public let name: String
        let code: UInt8?

        public init(_ name: String) {
            self.name = name
            code = EventCodec.knownKeyCode(name)
        }

        /// Whether a member whose name starts with `keyByte` (spelled out as `spelled`, when
        /// not a one-byte code) is this field. A known name is always stored as its code.
        @inline(__always)
        func isNamed(_ keyByte: UInt8, _ spelled: UnsafeRawBufferPointer?) -> Bool {
            guard let spelled else { return keyByte == code }
            return code == nil && name.utf8.elementsEqual(spelled)
        }
    }

    /// One field of `data`, decoded (`nil` when absent).
    public func value(_ field: Field) -> JSONValue? {
        find(field).flatMap(value(at:))
    }

    /// The value whose tag is at `offset`, decoded.
    func value(at offset: Int) -> JSONValue? {
        var reader = EventCodec.Reader(bytes: payload, index: offset)
        return try? reader.readValue()
    }

    /// A member's value as stored, for tests that need not decode it: a string's UTF-8 bytes
    /// (in place) and a number's value; anything else by where it is, to decode.
    enum Stored {
        /// Absent, or null.
        case missing
        case string(UnsafeRawBufferPointer)
        case number(Double)
        /// A boolean, array or object: its tag's offset.
        case other(Int)
    }

    /// One field of `data`, as stored.
    func stored(_ field: Field) -> Stored {
        find(field).map(stored(at:)) ?? .missing
    }

    /// The value whose tag is at `offset` (from `find` or `locate`), as stored.
    func stored(at offset: Int) -> Stored {
        guard offset >= 0 else { return .missing }
        var reader = EventCodec.Reader(bytes: payload, index: offset + 1)
        switch payload[offset] {
        case EventCodec.Tag.null:
            return .missing
        case EventCodec.Tag.string:
            guard let length = try? reader.varint(), length <= payload.count - reader.index else { return .missing }
            return .string(UnsafeRawBufferPointer(rebasing: payload[reader.index..<reader.index + length]))
        case EventCodec.Tag.int32:
            return (try? reader.fixed(Int32.self)).map { .number(Double($0)) } ?? .missing
        case EventCodec.Tag.double:
            return (try? reader.fixed(UInt64.self)).map { .number(Double(bitPattern: $0)) } ?? .missing
        default:
            return .other(offset)
        }
    }

    /// Finds several fields of `data` in one pass: `offsets[i]` becomes the offset of the tag
    /// of `fields[i]`'s value (of its first member of that name, as `find`), or -1.
    func locate(_ fields: [Field], into offsets: UnsafeMutableBufferPointer<Int>) {
        offsets.initialize(repeating: -1)
        var left = fields.count
        forEachMember { keyByte, name, offset in
            for index in fields.indices where offsets[index] < 0 && fields[index].isNamed(keyByte, name) {
                offsets[index] = offset
                left -= 1
            }
            return left > 0
        }
    }

    /// The offset of the tag of `field`'s value (its first member of that name), if any.
    private func find(_ field: Field) -> Int? {
        var found: Int?
        forEachMember { keyByte, name, offset in
            if field.isNamed(keyByte, name) { found = offset }
            return found == nil
        }
        return found
    }

    /// Calls `body` with each member of `data` in order — its name's first byte (a one-byte
    /// code when 0x80 or more), the name spelled out (when not a code) and the offset of its
    /// value's tag — while `body` returns true. Stops at the first malformed member.
    @inline(__always)
    private func forEachMember(_ body: (_ keyByte: UInt8, _ name: UnsafeRawBufferPointer?, _ valueOffset: Int) -> Bool) {
        var reader = EventCodec.Reader(bytes: payload, index: dataOffset + 1)
        guard let count = try? reader.varint() else { return }
        for _ in 0..<count {
            guard let keyByte = try? reader.byte() else { return }
            var name: UnsafeRawBufferPointer?
            if keyByte < 0x80 {
                let length = keyByte == 0x7F ? ((try? reader.varint()) ?? -1) : Int(keyByte)
                guard length >= 0, reader.index + length <= payload.count else { return }
                name = UnsafeRawBufferPointer(rebasing: payload[reader.index..<reader.index + length])
                reader.index += length
            }
            guard reader.index < payload.count, body(keyByte, name, reader.index) else { return }
            guard (try? reader.skipValue()) != nil else { return }
        }
    }
}

extension EventCodec.Reader {
    /// `skipValue()`, with a string (the usual value) skipped without the general case.
    @inline(__always)
    mutating func skipStringOrValue() throws(CodecError) {
        guard index < bytes.count, bytes[index] == Tag.string else { return try skipValue() }
        index += 1
        let length = try varint()
        guard length <= bytes.count - index else { throw CodecError("truncated payload") }
        index += length
    }

    /// Moves past one encoded value.
    mutating func skipValue(depth: Int = 0) throws(CodecError) {
        guard depth <= 64 else { throw CodecError("nesting too deep") }
        switch try byte() {
        case Tag.null, Tag.false, Tag.true: return
        case Tag.int32: index += 4
        case Tag.double: index += 8
        case Tag.string, Tag.sealed: index += try varint()
        case Tag.array:
            for _ in 0..<(try varint()) { try skipValue(depth: depth + 1) }
        case Tag.object:
            for _ in 0..<(try varint()) {
                let keyByte = try byte()
                if keyByte == 0x7F { index += try varint() } else if keyByte < 0x80 { index += Int(keyByte) }
                try skipValue(depth: depth + 1)
            }
        case let tag:
            throw CodecError("unknown value tag \(tag)")
        }
        guard index <= bytes.count else { throw CodecError("truncated payload") }
    }

    typealias Tag = EventCodec.Tag
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
