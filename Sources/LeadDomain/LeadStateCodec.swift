import LedgerJSON

/// The stored form of a lead's projected state (the value under its id in the `leads`
/// table). Deterministic: the same state always gives the same bytes, so a rebuilt
/// projection can be compared byte for byte with the live one.
///
///     u8 version (1) ‖ u8 stage ‖ string? owner ‖ u8 handedOff ‖ string? opportunity ‖
///     object profile ‖ i64 capturedAt ‖ i64 lastActivityAt ‖ varint touches ‖ varint events ‖
///     varint n ‖ n × (u8 stage ‖ i64 at ‖ u8 type ‖ string? actor ‖ u64 position) ‖
///     string? rulesVersion ‖ varint m ‖ m × (varint rule ‖ i64 at ‖ u64 position) ‖
///     [string mergedInto, only for a lead merged into another]
///
/// A lead with an account is stored as version 2: the same fields, then
///
///     string? mergedInto ‖ string account ‖ u8 explicit
///
/// (a lead without one keeps version 1's bytes, which stores older than accounts hold).
/// `string?` is a value of the event codec: a string or null.
public enum LeadStateCodec {
    public static let version: UInt8 = 1
    public static let accountVersion: UInt8 = 2

    /// `profile`, when given, is `state.profile` already encoded (as `EventCodec` encodes
    /// an event's data), and is copied as it is.
    public static func encode(_ state: LeadState, profile encodedProfile: [UInt8]? = nil) -> [UInt8] {
        let encoded = EncodedBytes(capacity: 256)
        let range = encode(state, profile: encodedProfile, into: encoded)
        return Array(encoded[range])
    }

    /// `encode(_:profile:)` appended to `bytes` (a commit's or replay chunk's rows): the
    /// range it takes there.
    public static func encode(_ state: LeadState, profile encodedProfile: [UInt8]?, into bytes: EncodedBytes) -> Range<Int> {
        guard let encodedProfile else {
            var profile: [UInt8] = []
            EventCodec.writeObject(state.profile, into: &profile)
            return encode(state, profile: profile, into: bytes)
        }
        // Written into memory of the largest size it can take, without an array's checks per
        // value (a lead is encoded for every commit or replay chunk that changed it): a string
        // or null takes at most its bytes and 11 more, a stage change 18 bytes and its actor,
        // a match 26, the fixed part 40.
        var most = 40 + encodedProfile.count + 18 * state.stages.count + 26 * state.matches.count
        most += 44 + (state.owner?.utf8.count ?? 0) + (state.opportunity?.utf8.count ?? 0) + (state.rulesVersion?.utf8.count ?? 0)
        most += state.mergedInto?.utf8.count ?? 0
        if let account = state.account { most += 24 + account.utf8.count }
        for change in state.stages { most += 11 + (change.actor?.utf8.count ?? 0) }
        return bytes.append(most: most) { encode(state, profile: encodedProfile, into: &$0) }
    }

    private static func encode(_ state: LeadState, profile: [UInt8], into out: inout ReservedBytes) {
        out.append(state.account == nil ? version : accountVersion)
        out.append(state.stage.code)
        writeOptional(state.owner, into: &out)
        out.append(state.handedOff ? 1 : 0)
        writeOptional(state.opportunity, into: &out)
        profile.withUnsafeBytes { out.append(bytes: $0) }
        out.append(littleEndian: state.capturedAt.microseconds)
        out.append(littleEndian: state.lastActivityAt.microseconds)
        EventCodec.writeVarint(state.touches, into: &out)
        EventCodec.writeVarint(state.events, into: &out)
        EventCodec.writeVarint(state.stages.count, into: &out)
        for change in state.stages {
            out.append(change.stage.code)
            out.append(littleEndian: change.at.microseconds)
            out.append(change.type.code)
            writeOptional(change.actor, into: &out)
            out.append(littleEndian: change.position)
        }
        writeOptional(state.rulesVersion, into: &out)
        EventCodec.writeVarint(state.matches.count, into: &out)
        for match in state.matches {
            EventCodec.writeVarint(match.rule, into: &out)
            out.append(littleEndian: match.at.microseconds)
            out.append(littleEndian: match.position)
        }
        // (Absent for every other lead: their bytes are those of stores older than merges.)
        if let account = state.account {
            writeOptional(state.mergedInto, into: &out)
            writeOptional(account, into: &out)
            out.append(state.accountIsExplicit ? 1 : 0)
        } else if let mergedInto = state.mergedInto {
            writeOptional(mergedInto, into: &out)
        }
    }

    /// Decodes a stored state; with `profile: false` the profile is skipped (left empty), for
    /// scans that do not need it.
    public static func decode(_ bytes: UnsafeRawBufferPointer, lead: String, profile includeProfile: Bool = true) throws(CodecError) -> LeadState {
        var reader = EventCodec.Reader(bytes: bytes, index: 0)
        let stored = try reader.byte()
        guard stored == version || stored == accountVersion else { throw CodecError("unknown lead state version") }
        guard let stage = Stage(code: try reader.byte()) else { throw CodecError("unknown stage code") }
        var state = LeadState(lead: lead, capturedAt: Timestamp(microseconds: 0))
        state.stage = stage
        state.owner = try readOptional(&reader)
        state.handedOff = try reader.byte() == 1
        state.opportunity = try readOptional(&reader)
        if includeProfile {
            guard case .object(let profile) = try reader.readValue() else { throw CodecError("profile is not an object") }
            state.profile = profile
        } else {
            try reader.skipValue()
        }
        state.capturedAt = Timestamp(microseconds: try reader.fixed(Int64.self))
        state.lastActivityAt = Timestamp(microseconds: try reader.fixed(Int64.self))
        state.touches = Int(try reader.rawVarint())
        state.events = Int(try reader.rawVarint())
        let count = try reader.varint()
        state.stages.reserveCapacity(count)
        for _ in 0..<count {
            guard let stage = Stage(code: try reader.byte()) else { throw CodecError("unknown stage code") }
            let at = Timestamp(microseconds: try reader.fixed(Int64.self))
            guard let type = EventType(code: try reader.byte()) else { throw CodecError("unknown event type code") }
            let actor = try readOptional(&reader)
            let position = try reader.fixed(UInt64.self)
            state.stages.append(StageChange(stage: stage, at: at, type: type, actor: actor, position: position))
        }
        state.rulesVersion = try readOptional(&reader)
        let matchCount = try reader.varint()
        state.matches.reserveCapacity(matchCount)
        for _ in 0..<matchCount {
            let rule = Int(try reader.id())
            let at = Timestamp(microseconds: try reader.fixed(Int64.self))
            state.matches.append(ScoreMatch(rule: rule, at: at, position: try reader.fixed(UInt64.self)))
        }
        if stored == accountVersion {
            state.mergedInto = try readOptional(&reader)
            guard let account = try readOptional(&reader) else { throw CodecError("a lead state of version 2 without its account") }
            state.account = account
            state.accountIsExplicit = try reader.byte() == 1
        } else if reader.index < bytes.count {
            guard let into = try readOptional(&reader) else { throw CodecError("a merged lead's survivor is null") }
            state.mergedInto = into
        }
        guard reader.index == bytes.count else { throw CodecError("trailing bytes after the lead state") }
        return state
    }

    /// The account a stored state is listed under in the `accounts` index — its account's
    /// bytes, `nil` for a lead without one or merged away — read in place, without decoding
    /// the state (a rebuild lists every lead at once, see `AccountIndex.fill`).
    public static func listedAccount(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> UnsafeRawBufferPointer? {
        var reader = EventCodec.Reader(bytes: bytes, index: 0)
        let stored = try reader.byte()
        guard stored == accountVersion else {
            guard stored == version else { throw CodecError("unknown lead state version") }
            return nil
        }
        reader.index += 1  // stage
        try reader.skipValue()  // owner
        reader.index += 1  // handedOff
        try reader.skipValue()  // opportunity
        try skipProfile(&reader)
        reader.index += 16  // capturedAt, lastActivityAt
        _ = try reader.rawVarint()  // touches
        _ = try reader.rawVarint()  // events
        for _ in 0..<(try reader.varint()) {
            reader.index += 10  // stage, at, type
            try reader.skipValue()  // actor
            reader.index += 8  // position
        }
        try reader.skipValue()  // rulesVersion
        for _ in 0..<(try reader.varint()) {
            _ = try reader.id()
            reader.index += 16  // at, position
        }
        // (A lead merged away is its survivor's: the index leaves it out.)
        guard try reader.byte() == EventCodec.Tag.null else { return nil }
        guard try reader.byte() == EventCodec.Tag.string else { throw CodecError("a lead state of version 2 without its account") }
        let length = try reader.varint()
        guard length <= bytes.count - reader.index else { throw CodecError("truncated string") }
        return UnsafeRawBufferPointer(rebasing: bytes[reader.index..<reader.index + length])
    }

    /// Moves past a stored profile: with plain loads when every member name is a one-byte
    /// code and every value a short string, a number, a boolean or null (the usual profile),
    /// else through `skipValue`.
    private static func skipProfile(_ reader: inout EventCodec.Reader) throws(CodecError) {
        let (bytes, start) = (reader.bytes, reader.index)
        guard start + 1 < bytes.count, bytes[start] == EventCodec.Tag.object, bytes[start + 1] < 0x80 else { return try reader.skipValue() }
        var (index, remaining) = (start + 2, Int(bytes[start + 1]))
        while remaining > 0 {
            guard index + 2 <= bytes.count, bytes[index] >= 0x80 else { return try reader.skipValue() }
            let value = index + 2
            switch bytes[index + 1] {
            case EventCodec.Tag.string:
                guard value < bytes.count, bytes[value] < 0x80 else { return try reader.skipValue() }
                index = value + 1 + Int(bytes[value])
            case EventCodec.Tag.int32: index = value + 4
            case EventCodec.Tag.double: index = value + 8
            case EventCodec.Tag.null, EventCodec.Tag.false, EventCodec.Tag.true: index = value
            default: return try reader.skipValue()
            }
            remaining -= 1
        }
        guard index <= bytes.count else { throw CodecError("truncated payload") }
        reader.index = index
    }

    static func writeOptional(_ value: String?, into out: inout some ByteSink) {
        guard var value else { return out.append(EventCodec.Tag.null) }
        value.withUTF8 { EventCodec.writeString(utf8: UnsafeRawBufferPointer($0), into: &out) }
    }

    static func readOptional(_ reader: inout EventCodec.Reader) throws(CodecError) -> String? {
        switch try reader.readValue() {
        case .null: return nil
        case .string(let value): return value
        default: throw CodecError("expected a string or null")
        }
    }
}
