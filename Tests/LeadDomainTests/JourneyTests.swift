import LeadDomain
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
            var inPlace = Lifecycle.captured(lead: "L", at: view.at, actor: view.actor, hasChannel: fields.channel != nil, position: 7)
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
