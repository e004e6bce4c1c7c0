import LedgerJSON

/// Interns a dimension value (a channel, campaign, content or source, as bytes) as a small
/// id, 0 for none.
public protocol DimensionInterning {
    mutating func intern(_ bytes: UnsafeRawBufferPointer?) -> UInt32
}

/// A touchpoint of a lead's journey: when, where in the log, and its dimensions as interned
/// ids (see `Journey`).
public struct Touchpoint: Sendable, Hashable {
    public var at: Timestamp
    public var position: UInt64
    public var channel: UInt32
    public var campaign: UInt32
    public var content: UInt32
    public var source: UInt32

    public init(at: Timestamp, position: UInt64, channel: UInt32, campaign: UInt32, content: UInt32, source: UInt32) {
        self.at = at
        self.position = position
        self.channel = channel
        self.campaign = campaign
        self.content = content
        self.source = source
    }

    public func key(_ dimension: TouchField) -> UInt32 {
        switch dimension {
        case .channel: return channel
        case .campaign: return campaign
        case .content: return content
        case .source: return source
        }
    }
}

/// The touch fields attribution reports group by.
public enum TouchField: String, Sendable, CaseIterable {
    case channel, campaign, source, content
}

/// A handoff to sales and when sales first responded (contacted or accepted).
public struct Handoff: Sendable, Hashable {
    public var at: Timestamp
    public var owner: UInt32
    public var respondedAt: Timestamp?

    public init(at: Timestamp, owner: UInt32, respondedAt: Timestamp?) {
        self.at = at
        self.owner = owner
        self.respondedAt = respondedAt
    }
}

public struct Rejection: Sendable, Hashable {
    public var at: Timestamp
    /// Index in `Vocabulary.rejectionReasons`.
    public var reason: UInt8
    public var owner: UInt32

    public init(at: Timestamp, reason: UInt8, owner: UInt32) {
        self.at = at
        self.reason = reason
        self.owner = owner
    }
}

/// The attribution and funnel inputs of one lead, kept as a projection so that reports read
/// it instead of re-decoding the log. Strings (channels, campaigns, sources, contents,
/// owners) are interned to small ids by the store; 0 means "none".
public struct Journey: Sendable, Hashable {
    /// The funnel stages, in order.
    public static let funnel: [Stage] = [.lead, .mql, .sal, .sql, .opportunity, .customer]

    /// The capture's source, campaign and channel.
    public var source: UInt32 = 0
    public var campaign: UInt32 = 0
    public var channel: UInt32 = 0
    public var capturedAt: Timestamp
    /// First time the lead entered each funnel stage (index as in `funnel`).
    public var reached: [Timestamp?] = Array(repeating: nil, count: Journey.funnel.count)
    public var opportunities: [Timestamp] = []
    /// The won deal: when, and its amount.
    public var wonAt: Timestamp?
    public var revenue: Double = 0
    public var lostAt: Timestamp?
    public var handoffs: [Handoff] = []
    public var rejections: [Rejection] = []
    public var accepts: Int = 0
    /// Touchpoints in (at, position) order.
    public var touches: [Touchpoint] = []

    public init(capturedAt: Timestamp) {
        self.capturedAt = capturedAt
    }

    /// The milestone of opportunity creation for the conversion: the latest opportunity
    /// opened at or before it (else the earliest).
    public var opportunityAt: Timestamp? {
        guard let wonAt else { return opportunities.last }
        return opportunities.last { $0 <= wonAt } ?? opportunities.first
    }

    /// Replaces every interned id (capture fields, owners, touch dimensions) by `transform`'s.
    public mutating func mapDimensions(_ transform: (UInt32) -> UInt32) {
        source = transform(source)
        campaign = transform(campaign)
        channel = transform(channel)
        for index in handoffs.indices { handoffs[index].owner = transform(handoffs[index].owner) }
        for index in rejections.indices { rejections[index].owner = transform(rejections[index].owner) }
        for index in touches.indices {
            touches[index].channel = transform(touches[index].channel)
            touches[index].campaign = transform(touches[index].campaign)
            touches[index].content = transform(touches[index].content)
            touches[index].source = transform(touches[index].source)
        }
    }

    /// Whether the lead reached a funnel stage or any later one.
    public func hasReached(_ index: Int) -> Bool {
        reached[index...].contains { $0 != nil }
    }
}

/// Builds journeys from events (pure: interning is the caller's function).
public enum JourneyBuilder {
    public static func apply(_ event: Envelope, position: UInt64, to journey: inout Journey?, stageAfter: Stage?, intern: (String?) -> UInt32) {
        // (`journey == nil` would copy the journey, arrays and all, to compare it.)
        if case .none = journey {
            guard event.type == .leadCaptured else { return }
            journey = newJourney(capturedAt: event.at)
        }
        // Mutate in place: copying the journey out would copy its arrays on every event.
        apply(event, position: position, to: &journey!, stageAfter: stageAfter, intern: intern)
    }

    private static func newJourney(capturedAt at: Timestamp) -> Journey {
        var journey = Journey(capturedAt: at)
        // (Room for a lead's usual touches: growing the array one touch at a time
        // reallocated it for one touch in four.)
        journey.touches.reserveCapacity(32)
        return journey
    }

    /// A new lead's journey from its capture read in place (`Lifecycle.captured`'s journey):
    /// `fields` are the capture's `touchFields`. `intern` meets the values in the order
    /// `apply` does, so ids come out the same.
    public static func captured(
        _ fields: EventView.TouchFields, at: Timestamp, position: UInt64, intern: (UnsafeRawBufferPointer?) -> UInt32
    ) -> Journey {
        var journey = newJourney(capturedAt: at)
        capture(source: fields.source, campaign: fields.campaign, channel: fields.channel, content: fields.content,
                at: at, position: position, to: &journey, intern: intern)
        markReached(.lead, at: at, in: &journey)
        return journey
    }

    /// A capture's source, campaign and channel, and its touchpoint when it has a channel:
    /// the values as `String`s (from an `Envelope`) or as bytes read in place.
    private static func capture<Value>(
        source: Value?, campaign: Value?, channel: Value?, content: Value?, at: Timestamp, position: UInt64,
        to j: inout Journey, intern: (Value?) -> UInt32
    ) {
        j.capturedAt = at
        j.source = intern(source)
        j.campaign = intern(campaign)
        j.channel = intern(channel)
        if let channel {
            insert(Touchpoint(at: at, position: position, channel: intern(channel), campaign: j.campaign,
                              content: intern(content), source: j.source), into: &j.touches)
        }
    }

    private static func markReached(_ stage: Stage?, at: Timestamp, in j: inout Journey) {
        if let stage, let index = Journey.funnel.firstIndex(of: stage), j.reached[index] == nil {
            j.reached[index] = at
        }
    }

    public static func apply(_ event: Envelope, position: UInt64, to j: inout Journey, stageAfter: Stage?, intern: (String?) -> UInt32) {
        let data = event.data
        switch event.type {
        case .leadCaptured:
            capture(source: data["source"]?.stringValue, campaign: data["campaign"]?.stringValue,
                    channel: data["channel"]?.stringValue, content: data["content"]?.stringValue,
                    at: event.at, position: position, to: &j, intern: intern)
        case .leadHandedOff:
            j.handoffs.append(Handoff(at: event.at, owner: intern(data["to"]?.stringValue), respondedAt: nil))
        case .salesContacted, .salesAccepted:
            if event.type == .salesAccepted { j.accepts += 1 }
            if let last = j.handoffs.indices.last, j.handoffs[last].respondedAt == nil {
                j.handoffs[last].respondedAt = max(event.at, j.handoffs[last].at)
            }
        case .salesRejected:
            let reason = data["reason"]?.stringValue.flatMap { Vocabulary.rejectionReasons.firstIndex(of: $0) } ?? Vocabulary.rejectionReasons.count - 1
            j.rejections.append(Rejection(at: event.at, reason: UInt8(reason), owner: intern(event.actor)))
            if let last = j.handoffs.indices.last, j.handoffs[last].respondedAt == nil {
                j.handoffs[last].respondedAt = max(event.at, j.handoffs[last].at)
            }
        case .opportunityOpened:
            j.opportunities.append(event.at)
        case .dealClosed:
            if data["outcome"] == .string("won") {
                j.wonAt = event.at
                j.revenue = data["amount"]?.doubleValue ?? 0
            } else {
                j.lostAt = event.at
            }
        default:
            if event.type.isTouch {
                let source = data["source"]?.stringValue
                insert(Touchpoint(at: event.at, position: position, channel: intern(data["channel"]?.stringValue),
                                  campaign: intern(data["campaign"]?.stringValue), content: intern(data["content"]?.stringValue),
                                  source: source == nil ? j.source : intern(source)), into: &j.touches)
            }
        }
        markReached(stageAfter, at: event.at, in: &j)
    }

    /// `applyTouch` with an interning closure (appends: the live dictionary's, which can
    /// fail). Not written as the generic one over a closure-holding interner: that cost the
    /// log's sequencer 7 % more instructions.
    public static func applyTouch(_ view: EventView, position: UInt64, to journey: inout Journey?, intern: (UnsafeRawBufferPointer?) -> UInt32) {
        guard case .some = journey else { return }
        let fields = view.touchFields
        insert(Touchpoint(at: view.at, position: position, channel: intern(fields.channel),
                          campaign: intern(fields.campaign), content: intern(fields.content),
                          source: fields.source == nil ? journey!.source : intern(fields.source)), into: &journey!.touches)
    }

    /// A stored touch, read in place, for a lead that may have no journey yet (then there is
    /// nothing to do): its dimensions are interned from their bytes. Generic and inlinable,
    /// so that a caller's interner is specialized: a touch is most of the log, and calling a
    /// closure for each of its dimensions cost a replay about as much as interning them.
    @inlinable
    public static func applyTouch<Interning: DimensionInterning>(
        _ view: EventView, position: UInt64, to journey: inout Journey?, interning: inout Interning
    ) {
        guard case .some = journey else { return }
        let fields = view.touchFields
        let channel = interning.intern(fields.channel)
        let campaign = interning.intern(fields.campaign)
        let content = interning.intern(fields.content)
        let source = fields.source == nil ? journey!.source : interning.intern(fields.source)
        insert(Touchpoint(at: view.at, position: position, channel: channel, campaign: campaign, content: content, source: source),
               into: &journey!.touches)
    }

    @usableFromInline
    static func insert(_ touch: Touchpoint, into touches: inout [Touchpoint]) {
        var index = touches.count
        while index > 0 && (touch.at, touch.position) < (touches[index - 1].at, touches[index - 1].position) { index -= 1 }
        // Touches often arrive out of time order (anonymous ones attached late), and
        // `Array.insert` goes through the general range replacement: append, then move the
        // later touches up by one (plain values, so a memmove).
        touches.append(touch)
        guard index < touches.count - 1 else { return }
        touches.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let later = buffer.count - 1 - index
            UnsafeMutableRawPointer(base + index + 1).copyMemory(from: base + index, byteCount: later * MemoryLayout<Touchpoint>.stride)
            base[index] = touch
        }
    }
}

/// The stored form of a journey (deterministic). Times are varints relative to a nearby
/// time, positions relative to the previous touch's, ids varints: a journey is written for
/// every commit or replay chunk that changes its lead, so its bytes are much of what those
/// write (version 1 stored every time and position as 8 bytes: 463 bytes a lead on average
/// against 250).
///
///     u8 version (2) ‖ id source ‖ id campaign ‖ id channel ‖ i64 capturedAt ‖
///     6 × time? reached ‖ varint n ‖ n × time opportunity ‖ time? wonAt ‖ f64 revenue ‖
///     time? lostAt ‖ varint n ‖ n × (time at ‖ id owner ‖ time? respondedAt − at) ‖
///     varint n ‖ n × (time at ‖ u8 reason ‖ id owner) ‖ varint accepts ‖
///     varint n ‖ n × (delta at ‖ delta position ‖ id channel ‖ id campaign ‖ id content ‖ id source)
///
/// `time` is the zigzag varint of its difference from `capturedAt` (unless noted); `time?` the
/// same plus one, with 0 for none; a touch's `delta`s are zigzag varints of the difference
/// from the previous touch's (the first's from `capturedAt` and 0). Timestamps stay within
/// years 0–9999, so no difference overflows.
public enum JourneyCodec {
    public static let version: UInt8 = 2

    public static func encode(_ j: Journey) -> [UInt8] {
        let encoded = EncodedBytes(capacity: 256)
        return Array(encoded[encode(j, into: encoded)])
    }

    /// `encode(_:)` appended to `bytes` (a commit's or replay chunk's rows): the range it
    /// takes there.
    public static func encode(_ j: Journey, into bytes: EncodedBytes) -> Range<Int> {
        // Written into memory of the largest size it can take, without an array's checks per
        // value: a journey is encoded for every lead a commit touches. A varint takes at most
        // 10 bytes (5 for an id).
        let most = 64 + 10 * j.reached.count + 10 * j.opportunities.count + 25 * j.handoffs.count
            + 16 * j.rejections.count + 40 * j.touches.count
        return bytes.append(most: most) { encode(j, into: &$0) }
    }

    private static func encode(_ j: Journey, into out: inout ReservedBytes) {
        let base = j.capturedAt.microseconds
        out.append(version)
        EventCodec.writeVarint(Int(j.source), into: &out)
        EventCodec.writeVarint(Int(j.campaign), into: &out)
        EventCodec.writeVarint(Int(j.channel), into: &out)
        out.append(littleEndian: base)
        for time in j.reached { writeTime(time, from: base, into: &out) }
        EventCodec.writeVarint(j.opportunities.count, into: &out)
        for time in j.opportunities { writeDelta(time.microseconds &- base, into: &out) }
        writeTime(j.wonAt, from: base, into: &out)
        out.append(littleEndian: j.revenue.bitPattern)
        writeTime(j.lostAt, from: base, into: &out)
        EventCodec.writeVarint(j.handoffs.count, into: &out)
        for handoff in j.handoffs {
            writeDelta(handoff.at.microseconds &- base, into: &out)
            EventCodec.writeVarint(Int(handoff.owner), into: &out)
            writeTime(handoff.respondedAt, from: handoff.at.microseconds, into: &out)
        }
        EventCodec.writeVarint(j.rejections.count, into: &out)
        for rejection in j.rejections {
            writeDelta(rejection.at.microseconds &- base, into: &out)
            out.append(rejection.reason)
            EventCodec.writeVarint(Int(rejection.owner), into: &out)
        }
        EventCodec.writeVarint(j.accepts, into: &out)
        EventCodec.writeVarint(j.touches.count, into: &out)
        var (at, position) = (base, UInt64(0))
        for touch in j.touches {
            writeDelta(touch.at.microseconds &- at, into: &out)
            writeDelta(Int64(bitPattern: touch.position &- position), into: &out)
            (at, position) = (touch.at.microseconds, touch.position)
            EventCodec.writeVarint(Int(touch.channel), into: &out)
            EventCodec.writeVarint(Int(touch.campaign), into: &out)
            EventCodec.writeVarint(Int(touch.content), into: &out)
            EventCodec.writeVarint(Int(touch.source), into: &out)
        }
    }

    /// A signed difference as an unsigned value small when the difference is (zigzag:
    /// 0, -1, 1, -2… as 0, 1, 2, 3…), and back.
    private static func zigzag(_ delta: Int64) -> UInt64 {
        UInt64(bitPattern: (delta << 1) ^ (delta >> 63))
    }

    private static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    private static func writeDelta(_ delta: Int64, into out: inout ReservedBytes) {
        EventCodec.writeVarint(zigzag(delta), into: &out)
    }

    private static func writeTime(_ time: Timestamp?, from base: Int64, into out: inout ReservedBytes) {
        guard let time else { return out.append(0) }
        EventCodec.writeVarint(zigzag(time.microseconds &- base) + 1, into: &out)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> Journey {
        var r = EventCodec.Reader(bytes: bytes, index: 0)
        guard try r.byte() == version else { throw CodecError("unknown journey version") }
        let source = try r.id()
        let campaign = try r.id()
        let channel = try r.id()
        let base = try r.fixed(Int64.self)
        var j = Journey(capturedAt: Timestamp(microseconds: base))
        j.source = source
        j.campaign = campaign
        j.channel = channel
        for index in j.reached.indices { j.reached[index] = try time(&r, from: base) }
        let opportunities = try r.varint()
        for _ in 0..<opportunities { j.opportunities.append(Timestamp(microseconds: base &+ (try delta(&r)))) }
        j.wonAt = try time(&r, from: base)
        j.revenue = Double(bitPattern: try r.fixed(UInt64.self))
        j.lostAt = try time(&r, from: base)
        let handoffs = try r.varint()
        for _ in 0..<handoffs {
            let at = base &+ (try delta(&r))
            let owner = try r.id()
            j.handoffs.append(Handoff(at: Timestamp(microseconds: at), owner: owner, respondedAt: try time(&r, from: at)))
        }
        let rejections = try r.varint()
        for _ in 0..<rejections {
            let at = Timestamp(microseconds: base &+ (try delta(&r)))
            let reason = try r.byte()
            j.rejections.append(Rejection(at: at, reason: reason, owner: try r.id()))
        }
        j.accepts = Int(try r.rawVarint())
        let touches = try r.varint()
        j.touches.reserveCapacity(touches)
        var (at, position) = (base, UInt64(0))
        for _ in 0..<touches {
            at = at &+ (try delta(&r))
            position = position &+ UInt64(bitPattern: try delta(&r))
            let channel = try r.id()
            let campaign = try r.id()
            let content = try r.id()
            j.touches.append(Touchpoint(
                at: Timestamp(microseconds: at), position: position, channel: channel, campaign: campaign, content: content,
                source: try r.id()))
        }
        guard r.index == bytes.count else { throw CodecError("trailing bytes after the journey") }
        return j
    }

    private static func delta(_ r: inout EventCodec.Reader) throws(CodecError) -> Int64 {
        unzigzag(try r.rawVarint())
    }

    private static func time(_ r: inout EventCodec.Reader, from base: Int64) throws(CodecError) -> Timestamp? {
        let value = try r.rawVarint()
        guard value > 0 else { return nil }
        return Timestamp(microseconds: base &+ unzigzag(value - 1))
    }
}
