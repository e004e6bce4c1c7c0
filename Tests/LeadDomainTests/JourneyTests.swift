@testable import LeadDomain
import LedgerJSON
import Testing
import TestSupport

@Suite("Journeys: attribution inputs built from events")
struct JourneyTests {
    /// Touches arrive in log order, not time order (anonymous ones are attached late): the
    /// journey keeps them sorted by time, then by position.
    @Test func touchesStaySortedByTimeWhateverOrderTheyArriveIn() {
        let base = Timestamp(microseconds: 1_700_000_000_000_000)
        func at(_ minutes: Int64) -> Timestamp { Timestamp(microseconds: base.microseconds + minutes * 60_000_000) }
        var journey: Journey?
        var names: [String] = []
        func intern(_ value: String?) -> UInt32 {
            guard let value else { return 0 }
            if let index = names.firstIndex(of: value) { return UInt32(index + 1) }
            names.append(value)
            return UInt32(names.count)
        }
        let capture = Envelope(id: "c", type: .leadCaptured, lead: "L-1", at: at(50), data: ["source": "web", "channel": "organic"])
        JourneyBuilder.apply(capture, position: 1, to: &journey, stageAfter: .lead, intern: intern)
        let minutes: [Int64] = [70, 10, 30, 30, 0, 90, 10, 60]
        for (offset, minute) in minutes.enumerated() {
            let touch = Envelope(id: "t\(offset)", type: .touchPageView, lead: "L-1", at: at(minute), data: ["channel": "web", "campaign": .string("c\(offset)")])
            JourneyBuilder.apply(touch, position: UInt64(offset + 2), to: &journey, stageAfter: nil, intern: intern)
        }
        let touches = journey?.touches ?? []
        #expect(touches.count == minutes.count + 1)  // the capture's own touch too
        let order = touches.map { ($0.at.microseconds, $0.position) }
        #expect(order.map(\.1) == [6, 3, 8, 4, 5, 1, 9, 2, 7])
        #expect(zip(order, order.dropFirst()).allSatisfy { $0 < $1 })
    }
}

@Suite("Journeys stored: times and positions relative to their neighbours")
struct JourneyCodecTests {
    static func minutes(_ count: Int64, after time: Timestamp) -> Timestamp {
        Timestamp(microseconds: time.microseconds + count * 60_000_000)
    }

    /// Edge values: times before and after the capture, at both ends of the years a
    /// timestamp can hold, none and present; positions going down as well as up (a touch
    /// attached late sorts before later ones); the largest ids; no touches at all.
    static let journeys: [Journey] = {
        let captured = Timestamp(rfc3339: "2026-03-01T10:00:00.123456Z")!
        let earliest = Timestamp(rfc3339: "0001-01-01T00:00:00Z")!
        let latest = Timestamp(rfc3339: "9999-12-31T23:59:59.999999Z")!
        var full = Journey(capturedAt: captured)
        (full.source, full.campaign, full.channel) = (1, UInt32.max, 300)
        full.reached = [captured, minutes(90, after: captured), nil, minutes(-5, after: captured), latest, earliest]
        full.opportunities = [minutes(60 * 24 * 40, after: captured), earliest]
        full.wonAt = latest
        full.revenue = -12_345.67
        full.lostAt = minutes(-1, after: captured)
        full.handoffs = [
            Handoff(at: minutes(100, after: captured), owner: 7, respondedAt: minutes(99, after: captured)),
            Handoff(at: latest, owner: UInt32.max, respondedAt: nil),
            Handoff(at: earliest, owner: 0, respondedAt: latest),
        ]
        full.rejections = [Rejection(at: minutes(-3, after: captured), reason: 255, owner: 4), Rejection(at: latest, reason: 0, owner: 0)]
        full.accepts = 1 << 40
        full.touches = [
            Touchpoint(at: earliest, position: UInt64.max, channel: 1, campaign: 2, content: 3, source: 4),
            Touchpoint(at: minutes(-10, after: captured), position: 1, channel: 0, campaign: 0, content: 0, source: 0),
            Touchpoint(at: captured, position: 900_000_000_000, channel: UInt32.max, campaign: 128, content: 16_384, source: 5),
            Touchpoint(at: captured, position: 3, channel: 2, campaign: 2, content: 2, source: 2),
            Touchpoint(at: latest, position: 0, channel: 9, campaign: 9, content: 9, source: 9),
        ]
        return [full, Journey(capturedAt: captured), Journey(capturedAt: earliest), Journey(capturedAt: latest)]
    }()

    @Test(arguments: journeys.indices)
    func aJourneyDecodesToItselfAndEncodesToTheSameBytes(index: Int) throws {
        let journey = Self.journeys[index]
        let bytes = JourneyCodec.encode(journey)
        let decoded = try bytes.withUnsafeBytes { try JourneyCodec.decode($0) }
        #expect(decoded == journey)
        #expect(JourneyCodec.encode(decoded) == bytes)
    }

    /// Twenty touches minutes apart, at positions a few hundred apart: a few bytes each, not
    /// the sixteen that a time and a position take at fixed width.
    @Test func nearbyTimesAndPositionsTakeAFewBytes() {
        let captured = Timestamp(rfc3339: "2026-03-01T10:00:00Z")!
        var journey = Journey(capturedAt: captured)
        journey.reached[0] = captured
        journey.touches = (1...20).map {
            Touchpoint(at: Self.minutes(Int64($0 * 37), after: captured), position: UInt64(5_000_000 + $0 * 311), channel: 3, campaign: 17, content: 0, source: 2)
        }
        // Per touch: 5 bytes of time (2,220 s = 2.2e9 µs, zigzag 33 bits), 2 of position
        // (4 for the first), 4 of ids; 33 bytes besides. At fixed width: 490.
        #expect(JourneyCodec.encode(journey).count <= 33 + 20 * 11 + 2)
    }

    @Test func truncatedOrExtendedBytesAreRefused() {
        let bytes = JourneyCodec.encode(Self.journeys[0])
        for cut in [1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CodecError.self) { try Array(bytes[..<cut]).withUnsafeBytes { try JourneyCodec.decode($0) } }
        }
        #expect(throws: CodecError.self) { try (bytes + [0]).withUnsafeBytes { try JourneyCodec.decode($0) } }
        #expect(throws: CodecError.self) { try ([1] + bytes.dropFirst()).withUnsafeBytes { try JourneyCodec.decode($0) } }
    }
}

@Suite("A capture read in place does what the decoded capture does")
struct CaptureInPlaceTests {
    static let captures: [Envelope] = [
        Envelope(id: "a", type: .leadCaptured, lead: "L-1", at: Events.at("2026-03-01T10:00:00Z"), actor: "form",
                 data: ["email": "a@example.com", "source": "google-ads", "campaign": "Brand", "channel": "paid_search", "content": "ad-7"]),
        // No channel: the capture is no touch.
        Envelope(id: "b", type: .leadCaptured, lead: "L-2", at: Events.at("2026-03-01T11:00:00Z"), actor: nil,
                 data: ["source": "import", "title": "CTO", "employees": 400]),
        // An empty campaign interns as no value.
        Envelope(id: "c", type: .leadCaptured, lead: "L-3", at: Events.at("2026-03-02T09:30:00Z"), actor: "sync",
                 data: ["channel": "event", "campaign": "", "source": "booth"]),
    ]

    @Test(arguments: captures)
    func theStateAndTheJourneyAreTheSame(capture: Envelope) throws {
        let payload = EventCodec.encode(capture)
        try payload.withUnsafeBytes { bytes in
            let view = try EventView(bytes)
            let fields = view.touchFields
            #expect(view.actor == capture.actor)

            var decoded: LeadState?
            Lifecycle.apply(capture, position: 7, to: &decoded)
            var inPlace = Lifecycle.captured(
                lead: "L", at: view.at, actor: view.actor, hasChannel: fields.channel != nil, position: 7, account: view.capturedAccount)
            inPlace.lead = try #require(decoded).lead
            inPlace.profile = capture.data
            #expect(inPlace == decoded)

            // The same values interned in the same order give the same ids.
            var met: [[UInt8]] = []
            func intern(_ bytes: [UInt8]?) -> UInt32 {
                guard let bytes, !bytes.isEmpty else { return 0 }
                met.append(bytes)
                return UInt32(met.count)
            }
            var journey: Journey?
            JourneyBuilder.apply(capture, position: 7, to: &journey, stageAfter: .lead) { intern($0.map { Array($0.utf8) }) }
            let metDecoding = met
            met = []
            let captured = JourneyBuilder.captured(fields, at: view.at, position: 7) { intern($0.map { Array($0) }) }
            #expect(captured == journey)
            #expect(met == metDecoding)
        }
    }
}

@Suite("A touch's fields read in place")
struct TouchFieldsTests {
    static let long = String(repeating: "c", count: 200)

    /// Members in every encoding the reader meets: known names (one-byte codes), names
    /// spelled out, values of other types, and strings of 128 bytes or more.
    static let touches: [JSONObject] = [
        ["channel": "web", "campaign": "Q2", "content": "roi", "source": "google"],
        ["url": "/pricing", "channel": "web", "n": 3, "campaign": .string(long)],
        ["someUnknownName": "x", "content": "c", "channel": "email", "flag": true],
        [.init(stringLiteral: long): "x", "channel": "chat", "source": nil, "campaign": "B"],
        ["campaign": "only"],
    ]

    /// The codes the reader compares with are the stored ones.
    @Test func theFieldCodesAreTheCodecs() {
        #expect(EventView.Key.channel == EventCodec.knownKeyCodes["channel"])
        #expect(EventView.Key.campaign == EventCodec.knownKeyCodes["campaign"])
        #expect(EventView.Key.content == EventCodec.knownKeyCodes["content"])
        #expect(EventView.Key.source == EventCodec.knownKeyCodes["source"])
    }

    @Test(arguments: touches)
    func theyAreTheDecodedStringMembers(data: JSONObject) throws {
        let touch = Envelope(id: "t", type: .touchPageView, lead: "L", at: Events.at("2026-03-01T00:00:00Z"), actor: "a", data: data)
        try EventCodec.encode(touch).withUnsafeBytes { bytes in
            let fields = try EventView(bytes).touchFields
            func text(_ value: UnsafeRawBufferPointer?) -> String? { value.map { String(decoding: $0, as: UTF8.self) } }
            #expect(text(fields.channel) == data["channel"]?.stringValue)
            #expect(text(fields.campaign) == data["campaign"]?.stringValue)
            #expect(text(fields.content) == data["content"]?.stringValue)
            #expect(text(fields.source) == data["source"]?.stringValue)
        }
    }
}
