import LedgerJSON

/// A personal field's value stored encrypted with its stream's key (crypto-shredding: once
/// the key is destroyed, the value is gone, while the stored bytes and the hash chain over
/// them stay as they were).
///
/// Stored as value tag 8 (`EventCodec.Tag.sealed`): a varint length, then the content —
/// a varint key-id length, the key id (the stream whose key sealed it), the value's offset
/// and length (varints) in the box's plaintext, and the key's AES-GCM box (12-byte nonce ‖
/// ciphertext ‖ 16-byte tag). One box holds every personal value of an event (their
/// encodings one after another), and each sealed member carries it: one encryption per
/// event, while each member still opens on its own (a profile keeps members of several
/// events).
///
/// In a decoded `JSONValue` (an `Envelope`'s data, a projected profile) a sealed value is a
/// string token: U+FDD0 (a Unicode noncharacter, never in text people send) and the content
/// in hex. Encoding the token again writes the same sealed bytes, so a profile keeps its
/// sealed values through the projection without ever holding plaintext. Readers turn
/// tokens back into values with a `SealedValueOpener` (`EventCodec.opened`).
public enum SealedValue {
    /// What a sealed value reads as once its key is destroyed (`lead erase`).
    public static let erasedText = "[erased]"
    /// What it reads as when the store's master key was not given to the reader.
    public static let lockedText = "[encrypted]"

    /// U+FDD0 in UTF-8.
    static let sentinel: [UInt8] = [0xEF, 0xB7, 0x90]
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The token of a sealed value's content.
    public static func token(_ content: UnsafeRawBufferPointer) -> String {
        var bytes = sentinel
        bytes.reserveCapacity(sentinel.count + content.count * 2)
        for byte in content {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether a string may be a token (its first bytes), before parsing it.
    @inline(__always)
    static func mayBeToken(_ text: String) -> Bool {
        text.utf8.first == 0xEF
    }

    /// The content of a token, or `nil` for any other string (one that only looks like a
    /// token is left a string).
    public static func content(ofToken text: String) -> [UInt8]? {
        guard mayBeToken(text) else { return nil }
        let utf8 = Array(text.utf8)
        guard utf8.count > sentinel.count, utf8.starts(with: sentinel), (utf8.count - sentinel.count) % 2 == 0 else { return nil }
        var content: [UInt8] = []
        content.reserveCapacity((utf8.count - sentinel.count) / 2)
        var index = sentinel.count
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            content.append(high << 4 | low)
            index += 2
        }
        return content.withUnsafeBytes { split($0) } == nil ? nil : content
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// The parts of a sealed value's content: the key id, where the value is in the box's
    /// plaintext, and the box.
    public static func split(_ content: UnsafeRawBufferPointer) -> (keyID: UnsafeRawBufferPointer, part: Range<Int>, box: UnsafeRawBufferPointer)? {
        var reader = EventCodec.Reader(bytes: content, index: 0)
        guard let length = try? reader.varint(), reader.index + length <= content.count else { return nil }
        let keyID = UnsafeRawBufferPointer(rebasing: content[reader.index..<reader.index + length])
        reader.index += length
        guard let offset = try? reader.varint(), let count = try? reader.varint() else { return nil }
        let box = UnsafeRawBufferPointer(rebasing: content[reader.index...])
        // (A nonce and a tag around the plaintext the part lies in.)
        guard box.count >= 28, offset + count <= box.count - 28 else { return nil }
        return (keyID, offset..<offset + count, box)
    }
}

/// What a sealed value opens to.
public enum OpenedValue: Sendable {
    /// The box's plaintext (for a value: its encoding, as `EventCodec` writes a value).
    case plain([UInt8])
    /// Its key was destroyed.
    case erased
    /// The reader has no master key.
    case locked
}

/// Opens sealed values (the store's key store, see `LeadEngine.KeyStore`).
public protocol SealedValueOpener: Sendable {
    func open(keyID: UnsafeRawBufferPointer, box: UnsafeRawBufferPointer) -> OpenedValue
}

/// The member names whose values are personal data: sealed on the way in, in every event's
/// top-level `data` (a tracked event's nested properties are not looked into).
public struct PersonalFields: Sendable, Equatable {
    /// Contact details, names, network addresses and free text (where people write anything).
    /// Not `reason` (rejection reasons are a fixed list that reports count), not `company`,
    /// `domain` or `title` (firmographics, which fit scoring and accounts read).
    public static let defaultNames = [
        "email", "firstName", "lastName", "name", "fullName", "phone", "mobile", "ip", "ipAddress", "address", "note", "notes",
        "comment", "comments", "message",
    ]

    /// Where the CLI reads another list (comma-separated) when it creates a key store.
    public static let environmentVariable = "LEADLEDGER_PERSONAL_FIELDS"

    public let names: [String]
    /// By one-byte key code (`EventCodec.knownKeys`): whether that name is personal.
    let knownCodes: [Bool]
    let otherNames: Set<String>
    /// The code of `email`, whose sealed value also leaves `emailDomain` in plaintext.
    let emailCode: UInt8?

    public init(names: [String] = PersonalFields.defaultNames) {
        self.names = names
        var codes = Array(repeating: false, count: 128)
        var others: Set<String> = []
        for name in names {
            if let code = EventCodec.knownKeyCode(name) { codes[Int(code - 0x80)] = true } else { others.insert(name) }
        }
        knownCodes = codes
        otherNames = others
        emailCode = names.contains("email") ? EventCodec.knownKeyCode("email") : nil
    }

    public static func == (lhs: PersonalFields, rhs: PersonalFields) -> Bool { lhs.names == rhs.names }

    public func contains(_ name: String) -> Bool { names.contains(name) }

    /// Whether the stored member name at `key` (its key byte and bytes) is personal.
    @inline(__always)
    func isPersonal(keyByte: UInt8, name: UnsafeRawBufferPointer) -> Bool {
        if keyByte >= 0x80 { return knownCodes[Int(keyByte - 0x80)] }
        return !otherNames.isEmpty && otherNames.contains(String(decoding: name, as: UTF8.self))
    }
}

extension EventCodec {
    /// The plaintext member a sealed `email` leaves beside it: a company's domain is not
    /// personal data, and accounts and fit rules read it after an erasure as before.
    public static let emailDomainKey = "emailDomain"

    /// The personal members of a payload, found (`scan`) and written sealed (`write`): every
    /// personal member of `data` sealed — the values' encodings, one after another, in one
    /// box under the stream's key — and `emailDomain` added beside a sealed string `email`
    /// that has a domain (unless `data` has one). Its buffers are reused from payload to
    /// payload: a batch's sealing allocates nothing per record.
    public struct PersonalFieldSealing {
        struct Member {
            var key: Range<Int>
            var value: Range<Int>
            var sealed: Bool
        }

        private var members: [Member] = []
        /// The encodings of the values to seal, one after another (what the box holds).
        public private(set) var plain: [UInt8] = []
        /// The box sealing `plain` (12-byte nonce ‖ ciphertext ‖ 16-byte tag), set by the caller.
        public var box: [UInt8] = []
        private var dataStart = 0
        private var count = 0
        private var sealedCount = 0
        /// The e-mail address's domain (where it starts and ends in the payload), if one is added.
        private var domain: Range<Int>?

        public init() {}

        /// Reads `payload`'s members: whether it has a personal member with a value (most
        /// events have none: nothing to rewrite).
        public mutating func scan(_ payload: UnsafeRawBufferPointer, personal: PersonalFields) throws -> Bool {
            members.removeAll(keepingCapacity: true)
            plain.removeAll(keepingCapacity: true)
            sealedCount = 0
            domain = nil
            var reader = Reader(bytes: payload, index: 10)
            try reader.skipStringOrValue()
            dataStart = reader.index
            guard try reader.byte() == Tag.object else { throw CodecError("data is not an object") }
            count = try reader.varint()
            var hasDomain = false
            for _ in 0..<count {
                let keyStart = reader.index
                let (keyByte, name) = try reader.memberName()
                if !hasDomain, keyByte < 0x80, name.elementsEqual(emailDomainKey.utf8) { hasDomain = true }
                let valueStart = reader.index
                try reader.skipValue()
                let tag = payload[valueStart]
                let sealed = personal.isPersonal(keyByte: keyByte, name: name) && tag != Tag.null && tag != Tag.sealed
                if sealed {
                    if keyByte == personal.emailCode, tag == Tag.string {
                        var text = Reader(bytes: payload, index: valueStart + 1)
                        let length = try text.varint()
                        let email = try text.slice(count: length)
                        if let at = email.lastIndex(of: UInt8(ascii: "@")), at + 1 < email.count {
                            domain = text.index - length + at + 1..<text.index
                        } else {
                            domain = nil
                        }
                    }
                    plain.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[valueStart..<reader.index]))
                    sealedCount += 1
                }
                members.append(Member(key: keyStart..<valueStart, value: valueStart..<reader.index, sealed: sealed))
            }
            guard !plain.isEmpty else { return false }
            guard reader.index == payload.count else { throw CodecError("trailing bytes after the event") }
            if hasDomain { domain = nil }
            return true
        }

        /// At most how many bytes `write` writes for the payload scanned, with `box` set.
        public func sealedSize(payload: UnsafeRawBufferPointer, keyID: UnsafeRawBufferPointer) -> Int {
            // (Per sealed member: its tag, three varints and the content's length, at most 10 bytes each.)
            let perMember = keyID.count + box.count + 41
            let domainSize = domain.map { emailDomainKey.utf8.count + $0.count + 12 } ?? 0
            return payload.count + sealedCount * perMember + domainSize + 10
        }

        /// Writes the payload scanned with its personal members sealed (`keyID`: the stream
        /// whose key sealed `box`).
        package func write(_ payload: UnsafeRawBufferPointer, keyID: UnsafeRawBufferPointer, into out: inout some ByteSink) {
            out.append(bytes: UnsafeRawBufferPointer(rebasing: payload[..<dataStart]))
            out.append(Tag.object)
            writeVarint(count + (domain == nil ? 0 : 1), into: &out)
            var offset = 0
            box.withUnsafeBytes { box in
                let headerLength = varintLength(keyID.count) + keyID.count
                for member in members {
                    out.append(bytes: UnsafeRawBufferPointer(rebasing: payload[member.key]))
                    guard member.sealed else {
                        out.append(bytes: UnsafeRawBufferPointer(rebasing: payload[member.value]))
                        continue
                    }
                    // The content (see `SealedValue.split`): key id, part, box.
                    let part = offset..<offset + member.value.count
                    offset += member.value.count
                    out.append(Tag.sealed)
                    let length = headerLength + varintLength(part.lowerBound) + varintLength(part.count) + box.count
                    writeVarint(length, into: &out)
                    writeVarint(keyID.count, into: &out)
                    out.append(bytes: keyID)
                    writeVarint(part.lowerBound, into: &out)
                    writeVarint(part.count, into: &out)
                    out.append(bytes: box)
                }
            }
            if let domain {
                writeKeyLength(emailDomainKey.utf8.count, into: &out)
                for byte in emailDomainKey.utf8 { out.append(byte) }
                out.append(Tag.string)
                writeVarint(domain.count, into: &out)
                for byte in payload[domain] { out.append(byte >= 65 && byte <= 90 ? byte + 32 : byte) }
            }
        }

        private func varintLength(_ value: Int) -> Int {
            var length = 1
            var rest = value >> 7
            while rest > 0 {
                length += 1
                rest >>= 7
            }
            return length
        }
    }

    /// `object` with every sealed value (a token) opened: the plain value, or the erased or
    /// locked text when it cannot be opened (`opener` nil: locked).
    public static func opened(_ object: JSONObject, by opener: (any SealedValueOpener)?) -> JSONObject {
        guard object.contains(where: { if case .string(let text) = $0.value { SealedValue.mayBeToken(text) } else { false } }) else {
            return object
        }
        return JSONObject(object.map { member in (key: member.key, value: opened(member.value, by: opener)) })
    }

    /// A value with a sealed value (a token) opened.
    public static func opened(_ value: JSONValue, by opener: (any SealedValueOpener)?) -> JSONValue {
        guard case .string(let text) = value, let content = SealedValue.content(ofToken: text) else { return value }
        return content.withUnsafeBytes { content in
            switch open(content, by: opener) {
            case .plain(let encoding):
                return encoding.withUnsafeBytes { bytes in
                    var reader = Reader(bytes: bytes, index: 0)
                    guard let value = try? reader.readValue(), reader.index == bytes.count else { return .string(SealedValue.lockedText) }
                    return value
                }
            case .erased: return .string(SealedValue.erasedText)
            case .locked: return .string(SealedValue.lockedText)
            }
        }
    }

    /// A sealed value's encoding: its part of the opened box.
    static func open(_ content: UnsafeRawBufferPointer, by opener: (any SealedValueOpener)?) -> OpenedValue {
        guard let opener, let parts = SealedValue.split(content) else { return .locked }
        switch opener.open(keyID: parts.keyID, box: parts.box) {
        case .plain(let plaintext):
            guard parts.part.upperBound <= plaintext.count else { return .locked }
            return .plain(Array(plaintext[parts.part]))
        case let other:
            return other
        }
    }
}

extension EventCodec.Reader {
    /// A member's key: its first byte, and its name's bytes when it has no one-byte code.
    mutating func memberName() throws(CodecError) -> (UInt8, UnsafeRawBufferPointer) {
        let keyByte = try byte()
        if keyByte >= 0x80 { return (keyByte, UnsafeRawBufferPointer(start: nil, count: 0)) }
        let length = keyByte == 0x7F ? try varint() : Int(keyByte)
        return (keyByte, try slice(count: length))
    }
}

extension PersonalFields {
    /// The rules of `rules` that read a personal field (`fit[3] (email)`). In a store that
    /// seals personal fields such a rule sees only sealed values, so it never holds — the
    /// same before and after an erasure, so that a replay gives the scores the live
    /// projection gave. (`emailDomain` is the field to test a free-mail address on.)
    public func rulesReadingPersonalFields(_ rules: ScoringRules) -> [String] {
        rules.fit.filter { contains($0.field) }.map { "\($0.label) (\($0.field))" }
            + rules.behavior.flatMap { rule in rule.conditions.filter { contains($0.field) }.map { "\(rule.label) (\($0.field))" } }
    }
}
