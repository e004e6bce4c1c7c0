internal import CByteScan
import LeadDomain
import LedgerJSON

/// One JSONL event already in its stored form, with what the log keys it by.
public struct Transcoded: Sendable, Equatable {
    public var id: String
    public var type: EventType
    /// `nil` only for events that are not about a lead (`rules.published`).
    public var lead: String?
    /// The log stream: the lead, or `Envelope.systemStream`.
    public var stream: String
    /// Exactly what `EventCodec.encode` makes of the validated event.
    public var payload: [UInt8]

    public init(id: String, type: EventType, lead: String?, stream: String, payload: [UInt8]) {
        self.id = id
        self.type = type
        self.lead = lead
        self.stream = stream
        self.payload = payload
    }
}

/// The fast path of JSONL ingest: a line's bytes straight to the stored payload, without the
/// JSON tree, the `Envelope` and the `String` per member that the general path builds. Bulk
/// ingest spends most of its parsing time on those, and nearly every real line is simple:
/// ASCII, no escapes, a flat `data` object.
///
/// It is a shortcut, never a second authority. When it returns a value, the general path
/// (`JSONParser.parse`, `Envelope(json:)`, `EventCodec.encode`) accepts the same line and
/// stores the same bytes; when anything is unusual or wrong it returns `nil`, and the caller
/// runs the general path, which also writes the error message. So it needs no messages of
/// its own, and it bails rather than decide anything the general path might decide otherwise:
/// on any backslash escape, any non-ASCII byte (Swift compares strings by canonical
/// equivalence; ASCII text is equal only when its bytes are), arrays or objects inside
/// `data`, duplicate member names, numbers it cannot convert exactly as `JSONParser` does,
/// and every line that breaks a rule. The rules themselves are not restated here: the data
/// rules are `Vocabulary.firstProblem`, times are `Timestamp.parse`, key codes and value
/// layout are `EventCodec`'s.
public enum EventTranscoder {
    /// A `data` object with more members than this goes to the general path: the members
    /// are collected in a buffer on the stack, so that a line costs no allocation but its
    /// payload and its id and lead strings.
    static let maxDataMembers = 64

    /// The stored form of a simple, valid JSONL event, or `nil` when the line needs the
    /// general path (which then also produces the exact error message).
    public static func transcode(_ line: UnsafeRawBufferPointer) -> Transcoded? {
        transcode(line, scratch: Scratch())
    }

    /// `transcode(_:)` with room for the members that a caller transcoding many lines on one
    /// thread keeps (the temporary allocation is too large for the stack).
    public static func transcode(_ line: UnsafeRawBufferPointer, scratch: Scratch) -> Transcoded? {
        var result: Transcoded?
        _ = transcode(line, scratch: scratch) { id, stream, payload in
            let payload = Array(payload)
            let stream = String(decoding: stream, as: UTF8.self)
            guard let type = payload.withUnsafeBytes({ try? EventCodec.header($0).type }) else { return }  // (written just above)
            result = Transcoded(
                id: String(decoding: id, as: UTF8.self), type: type, lead: type.isLeadEvent ? stream : nil,
                stream: stream, payload: payload)
        }
        return result
    }

    /// The form bulk ingest uses: for a simple, valid line, calls `emit` with the event's id,
    /// its log stream and its stored payload (in `scratch`, valid during the call), and
    /// returns `true`; returns `false` (without calling `emit`) when the line needs the
    /// general path. So the caller can pack the record where it wants it, without an array or
    /// a `String` of its own.
    public static func transcode(
        _ line: UnsafeRawBufferPointer, scratch: Scratch,
        emit: (_ id: UnsafeRawBufferPointer, _ stream: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Void
    ) -> Bool {
        guard let start = line.baseAddress else { return false }
        let quotes = scratch.quoteMemory(words: (line.count + 63) >> 6)
        let plain = leadledger_quote_bits(start.assumingMemoryBound(to: UInt8.self), line.count, quotes.baseAddress) != 0
        var scanner = Scanner(
            bytes: line, members: scratch.members, byCode: scratch.byCode, quotedNames: scratch.quotedNames,
            quotes: plain ? UnsafeBufferPointer(quotes) : nil)
        defer { scanner.forgetCodes() }
        guard let envelope = scanner.envelope() else { return false }
        let data = DataMembers(
            bytes: line, members: UnsafeBufferPointer(rebasing: scratch.members[..<scanner.memberCount]), byCode: scratch.byCode)
        guard let event = checked(envelope, data: data, line: line) else { return false }
        var payload = ReservedBytes(scratch.payloadMemory(maxPayloadBytes(lineBytes: line.count)))
        write(event, envelope: envelope, data: data, line: line, into: &payload)
        let id = UnsafeRawBufferPointer(rebasing: line[event.id])
        if let lead = event.lead {
            emit(id, UnsafeRawBufferPointer(rebasing: line[lead]), payload.written)
        } else {
            var system = Envelope.systemStream
            system.withUTF8 { emit(id, UnsafeRawBufferPointer($0), payload.written) }
        }
        return true
    }

    /// At least the size of any payload transcoded from a line of this many bytes. The stored
    /// form is shorter than the JSON but for numbers: a member takes at least five bytes of
    /// JSON (`"":1,`) and at most seven stored (a one-byte name length, an int32 in five
    /// bytes); a number that is stored as a double (nine bytes) has at least three characters
    /// (`"":1.5,`: seven), and the envelope's JSON is far longer than the payload's ten-byte
    /// header and the actor's prefix. So twice the line is always enough.
    static func maxPayloadBytes(lineBytes: Int) -> Int {
        2 * lineBytes + 64
    }

    /// Room for one line's `data` members and its payload, reused line after line (one
    /// thread at a time).
    public final class Scratch {
        let members: UnsafeMutableBufferPointer<Member>
        /// For each one-byte name code, the index of the line's member with that name, or -1.
        let byCode: UnsafeMutablePointer<Int8>
        /// `EventTranscoder.quotedNames`, where reading it costs no lazy-global check per
        /// member (that check was a fiftieth of the transcoding).
        let quotedNames: UnsafeBufferPointer<QuotedName>
        private var payload: UnsafeMutableRawBufferPointer
        /// A line's quotes, a bit per byte (see `Scanner.quotes`).
        private var quotes: UnsafeMutableBufferPointer<UInt64>

        public init() {
            members = .allocate(capacity: EventTranscoder.maxDataMembers)
            byCode = .allocate(capacity: 256)
            byCode.initialize(repeating: -1, count: 256)
            let names = UnsafeMutableBufferPointer<QuotedName>.allocate(capacity: EventTranscoder.quotedNames.count)
            _ = names.initialize(from: EventTranscoder.quotedNames)
            quotedNames = UnsafeBufferPointer(names)
            payload = .allocate(byteCount: 4096, alignment: 8)
            quotes = .allocate(capacity: 64)
        }

        deinit {
            members.deallocate()
            byCode.deallocate()
            quotedNames.deallocate()
            payload.deallocate()
            quotes.deallocate()
        }

        /// `words` words for a line's quote bits.
        func quoteMemory(words: Int) -> UnsafeMutableBufferPointer<UInt64> {
            if quotes.count < words {
                quotes.deallocate()
                quotes = .allocate(capacity: words)
            }
            return UnsafeMutableBufferPointer(rebasing: quotes[..<words])
        }

        /// `count` bytes for a payload.
        func payloadMemory(_ count: Int) -> UnsafeMutableRawBufferPointer {
            if payload.count < count {
                payload.deallocate()
                payload = .allocate(byteCount: count, alignment: 8)
            }
            return UnsafeMutableRawBufferPointer(rebasing: payload[..<count])
        }
    }

    public static func transcode(_ line: String) -> Transcoded? {
        var line = line
        return line.withUTF8 { transcode(UnsafeRawBufferPointer($0)) }
    }

    /// What the checks found that the record needs.
    struct Checked {
        var type: EventType
        var at: Timestamp
        var id: Range<Int>
        /// `nil` for events that are not about a lead (their stream is the system's).
        var lead: Range<Int>?
    }

    /// Applies `Envelope(json:)`'s rules to the scanned members.
    private static func checked(_ envelope: EnvelopeMembers, data: DataMembers, line: UnsafeRawBufferPointer) -> Checked? {
        func text(_ range: Range<Int>) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: line[range])
        }
        /// `Envelope`'s string rule: present, not empty, not too long.
        func valid(_ range: Range<Int>, maxBytes: Int) -> Bool {
            !range.isEmpty && range.count <= maxBytes
        }
        guard let typeName = envelope.type, valid(typeName, maxBytes: Envelope.maxTypeBytes),
              let type = EventType(name: text(typeName)),
              let id = envelope.id, valid(id, maxBytes: Envelope.maxIDBytes),
              line[id.lowerBound] != Envelope.reservedIDPrefix  // reserved for tracking's ids
        else { return nil }
        var lead: Range<Int>?
        if type.isLeadEvent {
            guard let leadText = envelope.lead, valid(leadText, maxBytes: Envelope.maxLeadBytes),
                  line[leadText.lowerBound] != UInt8(ascii: "$")  // reserved for system streams
            else { return nil }
            lead = leadText
        } else if envelope.lead != nil {
            return nil
        }
        guard let atText = envelope.at, valid(atText, maxBytes: Envelope.maxTimeBytes),
              let at = Timestamp.parse(text(atText))
        else { return nil }
        if let actor = envelope.actor {
            guard valid(actor, maxBytes: Envelope.maxActorBytes) else { return nil }
        } else if type.requiresActor {
            return nil
        }
        guard Vocabulary.firstProblem(type, data) == nil else { return nil }
        return Checked(type: type, at: at, id: id, lead: lead)
    }

    /// Appends the payload of a checked line to `payload`: the layout of `EventCodec.encode`
    /// (header, actor, data in the line's member order).
    private static func write(_ event: Checked, envelope: EnvelopeMembers, data: DataMembers, line: UnsafeRawBufferPointer, into payload: inout some ByteSink) {
        func text(_ range: Range<Int>) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: line[range])
        }
        EventCodec.writeHeader(type: event.type, at: event.at, into: &payload)
        if let actor = envelope.actor {
            EventCodec.writeString(utf8: text(actor), into: &payload)
        } else {
            payload.append(EventCodec.Tag.null)
        }
        payload.append(EventCodec.Tag.object)
        EventCodec.writeVarint(data.members.count, into: &payload)
        for member in data.members {
            if let code = member.code {
                payload.append(code)
            } else {
                EventCodec.writeKeyLength(member.key.count, into: &payload)
                payload.append(bytes: text(member.key))
            }
            switch member.value {
            case .null: payload.append(EventCodec.Tag.null)
            case .bool(let flag): payload.append(flag ? EventCodec.Tag.true : EventCodec.Tag.false)
            case .number(let number): EventCodec.writeNumber(number, into: &payload)
            case .string(let range): EventCodec.writeString(utf8: text(range), into: &payload)
            }
        }
    }

    // MARK: Scanning

    /// Where the envelope's string members sit in the line; `nil` when absent or `null`
    /// (which `Envelope(json:)` treats alike).
    struct EnvelopeMembers {
        var id: Range<Int>?
        var type: Range<Int>?
        var lead: Range<Int>?
        var at: Range<Int>?
        var actor: Range<Int>?
    }

    /// The bit of `data` among the envelope's members (see `envelopeSlot`).
    static let dataIndex = 5

    /// A scalar member of `data`: its name and value as positions in the line.
    struct Member {
        var key: Range<Int>
        /// `EventCodec`'s one-byte code for the name, when it has one.
        var code: UInt8?
        var value: Value
    }

    enum Value {
        case null
        case bool(Bool)
        case number(Double)
        /// The text between the quotes (plain ASCII, so also its UTF-8).
        case string(Range<Int>)
    }

    /// The `data` members, as the data rules read them.
    struct DataMembers: Vocabulary.DataFields {
        let bytes: UnsafeRawBufferPointer
        let members: UnsafeBufferPointer<Member>
        /// The scanner's index of the members by name code.
        let byCode: UnsafePointer<Int8>

        var isEmpty: Bool { members.isEmpty }

        func value(of field: Vocabulary.Field) -> Vocabulary.FieldValue<UnsafeRawBufferPointer>? {
            // A name with a code always has it (the code is the name's), so codes decide;
            // only names without one are compared byte by byte.
            let found: Member
            if let code = field.code {
                let index = Int(byCode[Int(code)])
                guard index >= 0 else { return nil }
                found = members[index]
            } else {
                guard let member = members.first(where: { $0.code == nil && field.name.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[$0.key])) })
                else { return nil }
                found = member
            }
            switch found.value {
            case .null: return .null
            case .bool(let flag): return .bool(flag)
            case .number(let number): return .number(number)
            case .string(let range): return .string(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }

    /// A one-pass reader of the subset of JSON the fast path takes. Every method returns
    /// `nil` (or `false`) on anything outside that subset, valid JSON or not.
    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        let members: UnsafeMutableBufferPointer<Member>
        /// Which member has each name code (-1: none): filled as members are read, and
        /// emptied again by `forgetCodes` before the next line.
        let byCode: UnsafeMutablePointer<Int8>
        let quotedNames: UnsafeBufferPointer<QuotedName>
        /// When the line is plain (no backslash, control or non-ASCII byte anywhere: nearly
        /// every line), where its quotes are, a bit per byte (`leadledger_quote_bits`): a
        /// string then ends at the next quote, and nothing between needs checking.
        let quotes: UnsafeBufferPointer<UInt64>?
        var memberCount = 0
        var index = 0

        init(
            bytes: UnsafeRawBufferPointer, members: UnsafeMutableBufferPointer<Member>, byCode: UnsafeMutablePointer<Int8>,
            quotedNames: UnsafeBufferPointer<QuotedName>, quotes: UnsafeBufferPointer<UInt64>? = nil
        ) {
            self.bytes = bytes
            self.members = members
            self.byCode = byCode
            self.quotedNames = quotedNames
            self.quotes = quotes
        }

        /// Empties `byCode` of this line's members.
        func forgetCodes() {
            for member in members[..<memberCount] {
                if let code = member.code { byCode[Int(code)] = -1 }
            }
        }

        /// The whole line: one object with envelope members only, each at most once.
        mutating func envelope() -> EnvelopeMembers? {
            var envelope = EnvelopeMembers()
            var seen: UInt8 = 0
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var expected = 0  // the slot whose name usually comes next
            members: while true {
                skipWhitespace()
                let slot: Int
                if let known = quotedName(expected) {
                    slot = known
                } else {
                    guard let key = name(), let found = EventTranscoder.envelopeSlot(UnsafeRawBufferPointer(rebasing: bytes[key])) else {
                        return nil
                    }
                    slot = found
                }
                expected = slot + 1
                guard seen & (1 << slot) == 0 else { return nil }
                seen |= 1 << slot
                if slot == EventTranscoder.dataIndex {
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: "{") {
                        guard dataObject() else { return nil }
                    } else if !literal("null") {
                        return nil
                    }
                } else {
                    guard index < bytes.count else { return nil }
                    let value: Range<Int>?
                    if bytes[index] == UInt8(ascii: "\"") {
                        guard let text = string() else { return nil }
                        value = text
                    } else if literal("null") {
                        value = nil
                    } else {
                        return nil
                    }
                    switch slot {
                    case 0: envelope.id = value
                    case 1: envelope.type = value
                    case 2: envelope.lead = value
                    case 3: envelope.at = value
                    default: envelope.actor = value
                    }
                }
                switch afterMember() {
                case true?: continue members
                case false?: break members
                case nil: return nil
                }
            }
            skipWhitespace()
            return index == bytes.count ? envelope : nil
        }

        /// The envelope member name at the index (and its colon, and the whitespace after
        /// it), if it is `slot`'s exactly as it usually comes: `"id":`, `"type":` and so on,
        /// in that order. One comparison of a word then stands for scanning the name and
        /// looking it up, which took a tenth of the transcoding. Anything else (`nil`) goes
        /// through `name()`, so both accept the same lines.
        mutating func quotedName(_ slot: Int) -> Int? {
            guard slot < quotedNames.count, index + 8 <= bytes.count, let base = bytes.baseAddress else { return nil }
            let name = quotedNames[slot]
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            guard word & name.mask == name.word else { return nil }
            index += name.count
            skipWhitespace()
            return slot
        }

        /// `data`: a flat object of strings, numbers, booleans and nulls with distinct names.
        mutating func dataObject() -> Bool {
            index += 1  // {
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return true }
            while true {
                skipWhitespace()
                guard let key = name(), index < bytes.count else { return false }
                let value: Value
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let text = string() else { return false }
                    value = .string(text)
                case UInt8(ascii: "t"):
                    guard literal("true") else { return false }
                    value = .bool(true)
                case UInt8(ascii: "f"):
                    guard literal("false") else { return false }
                    value = .bool(false)
                case UInt8(ascii: "n"):
                    guard literal("null") else { return false }
                    value = .null
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let number = number() else { return false }
                    value = .number(number)
                default:
                    return false  // nested arrays and objects, or not JSON
                }
                let keyBytes = UnsafeRawBufferPointer(rebasing: bytes[key])
                let code = EventCodec.knownKeyCode(keyBytes)
                // JSONParser refuses duplicate names.
                if let code {
                    guard byCode[Int(code)] < 0 else { return false }
                } else if members[..<memberCount].contains(where: {
                    $0.code == nil && keyBytes.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[$0.key]))
                }) {
                    return false
                }
                guard memberCount < members.count else { return false }
                if let code { byCode[Int(code)] = Int8(memberCount) }
                members.initializeElement(at: memberCount, to: Member(key: key, code: code, value: value))
                memberCount += 1
                switch afterMember() {
                case true?: continue
                case false?: return true
                case nil: return false
                }
            }
        }

        /// Past the separator after a member: `true` after ',' (another member follows),
        /// `false` after '}' (the object ends), `nil` on anything else.
        mutating func afterMember() -> Bool? {
            skipWhitespace()
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: ","): return true
            case UInt8(ascii: "}"): return false
            default: return nil
            }
        }

        /// A member name and its ':'; the index is then at the value.
        mutating func name() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            return key
        }

        /// The contents of a string at the index, if it is plain printable ASCII. On a plain
        /// line (nearly all) the string ends at the next quote bit; other lines are scanned
        /// byte by byte (`scannedString`).
        @inline(__always)
        mutating func string() -> Range<Int>? {
            let start = index + 1  // past the opening quote
            guard let quotes else { return scannedString() }
            // (Bits past the line's end are clear.)
            var word = start >> 6
            guard word < quotes.count else { return nil }
            var found = quotes[word] & (~UInt64(0) << UInt64(start & 63))
            while found == 0 {
                word += 1
                guard word < quotes.count else { return nil }
                found = quotes[word]
            }
            let end = word << 6 | found.trailingZeroBitCount
            index = end + 1
            return start..<end
        }

        /// `string()` on a line that is not plain. Strings are most of a line's bytes, so
        /// they are scanned eight bytes at a time for the first byte that is either the
        /// closing quote or a reason to bail: a control byte (an error in JSON), a non-ASCII
        /// byte or a backslash (an escape). The usual bit tricks flag such bytes exactly up
        /// to the first one, which is all that is read here.
        @inline(never)
        mutating func scannedString() -> Range<Int>? {
            let start = index + 1  // past the opening quote
            guard let base = bytes.baseAddress else { return nil }
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            var offset = start
            while offset + 8 <= bytes.count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let quote = word ^ (UInt64(UInt8(ascii: "\"")) &* ones)
                let backslash = word ^ (UInt64(UInt8(ascii: "\\")) &* ones)
                let flagged = (word  // ≥ 0x80
                    | ((word &- 0x20 &* ones) & ~word)  // < 0x20
                    | ((quote &- ones) & ~quote)  // == '"'
                    | ((backslash &- ones) & ~backslash)) & high  // == '\\'
                if flagged != 0 {
                    offset += flagged.trailingZeroBitCount >> 3  // little-endian: the first byte
                    break
                }
                offset += 8
            }
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") {
                    index = offset + 1
                    return start..<offset
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                offset += 1
            }
            return nil
        }

        /// A number, as exactly the `Double` `JSONParser` makes of it, or `nil` when that is
        /// not certain. `JSONParser` turns an integer of up to 15 digits into `Double(integer)`
        /// and anything else into the correctly rounded `Double(text)`. Here: integers of up
        /// to 15 digits the same way, and decimals of up to 15 digits in all as
        /// `Double(digits) / 10^fractionDigits` — both operands are exact (< 2^53, ≤ 10^22)
        /// and IEEE division rounds correctly, so that is the correctly rounded value too.
        /// Exponents and longer numbers bail.
        mutating func number() -> Double? {
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            var digits: UInt64 = 0
            var count = 0
            var fractionCount = 0
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                count = 1
                if index < bytes.count, isDigit(bytes[index]) { return nil }  // a leading zero
            } else {
                while index < bytes.count, isDigit(bytes[index]) {
                    digits = digits * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                    count += 1
                    index += 1
                    if count > 15 { return nil }
                }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) {
                    digits = digits * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                    count += 1
                    fractionCount += 1
                    index += 1
                    if count > 15 { return nil }
                }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") { return nil }
            var value = Double(digits)
            if fractionCount > 0 { value /= EventTranscoder.powersOfTen[fractionCount] }
            return negative ? -value : value
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count,
                  memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0
            else { return false }
            index += count
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func isDigit(_ byte: UInt8) -> Bool {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        }
    }

    /// The envelope's names by slot (see `envelopeSlot`), quoted and with their colon, as
    /// little-endian words and masks for `Scanner.quotedName` (each fits in eight bytes).
    static let quotedNames: [QuotedName] = ["id", "type", "lead", "at", "actor", "data"].map { name in
        let quoted = Array("\"\(name)\":".utf8)
        precondition(quoted.count <= 8)
        let word = quoted.enumerated().reduce(UInt64(0)) { word, byte in word | UInt64(byte.element) << (8 * byte.offset) }
        let mask = quoted.count == 8 ? UInt64.max : (UInt64(1) << (8 * quoted.count)) - 1
        return QuotedName(word: word, mask: mask, count: quoted.count)
    }

    /// An envelope member's name as `Scanner.quotedName` compares it.
    struct QuotedName {
        var word: UInt64
        var mask: UInt64
        var count: Int
    }

    /// Which envelope member a name is (its bit in `seen`), or `nil` for any other name.
    static func envelopeSlot(_ name: UnsafeRawBufferPointer) -> Int? {
        guard let base = name.baseAddress else { return nil }
        func named(_ word: StaticString) -> Bool {
            memcmp(base, word.utf8Start, name.count) == 0
        }
        switch name.count {
        case 2: return named("id") ? 0 : named("at") ? 3 : nil
        case 4: return named("type") ? 1 : named("lead") ? 2 : named("data") ? dataIndex : nil
        case 5: return named("actor") ? 4 : nil
        default: return nil
        }
    }

    /// Exact powers of ten for the decimals `number()` takes (at most 15 fraction digits).
    static let powersOfTen: [Double] = (0...15).map { power in (0..<power).reduce(1.0) { product, _ in product * 10 } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
