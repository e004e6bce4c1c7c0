import LeadDomain
import LedgerJSON
import Testing

@Suite("Event envelope: validation and stored encoding")
struct EnvelopeTests {
    func decode(_ text: String) throws -> Envelope {
        try Envelope(json: JSONParser.parse(text))
    }

    @Test func decodesTheSpecExample() throws {
        let event = try decode(#"{"id":"evt-0001","type":"touch.webinar_registered","lead":"L-42","at":"2026-03-01T10:15:00Z","actor":"marketo-sync","data":{"channel":"webinar","campaign":"Q1 Webinar: Pipeline"}}"#)
        #expect(event.id == "evt-0001")
        #expect(event.type == .touchWebinarRegistered)
        #expect(event.lead == "L-42")
        #expect(event.at.rfc3339 == "2026-03-01T10:15:00Z")
        #expect(event.actor == "marketo-sync")
        #expect(event.data["campaign"] == .string("Q1 Webinar: Pipeline"))
    }

    @Test(arguments: [
        (#"{"type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z"}"#, "id", "required"),
        (#"{"id":"","type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z"}"#, "id", "must not be empty"),
        (#"{"id":7,"type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z"}"#, "id", "must be a string, found a number"),
        (#"{"id":"e","type":"lead.exploded","lead":"L","at":"2026-03-01T10:15:00Z"}"#, "type", "unknown event type \"lead.exploded\""),
        (#"{"id":"e","type":"lead.captured","at":"2026-03-01T10:15:00Z"}"#, "lead", "required"),
        (#"{"id":"e","type":"lead.captured","lead":"L","at":"2026-03-01"}"#, "at", "is not an RFC 3339 time"),
        (#"{"id":"e","type":"sales.accepted","lead":"L","at":"2026-03-01T10:15:00Z"}"#, "actor", "required for sales.accepted"),
        (#"{"id":"e","type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z","data":[1]}"#, "data", "must be an object"),
        (#"{"id":"e","type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z","when":"now"}"#, "when", "unknown field"),
        (#"{"id":"e","type":"lead.captured","lead":"$rules","at":"2026-03-01T10:15:00Z"}"#, "lead", "may not start with '$'"),
    ])
    func refusesBadEnvelopesNamingTheField(input: String, field: String, message: String) {
        let error = #expect(throws: EnvelopeError.self) { _ = try decode(input) }
        #expect(error?.field == field)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("field \"\(field)\"") == true)
    }

    static func captured(_ data: String) -> String {
        #"{"id":"e","type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z","data":{"source":"web",\#(data)}}"#
    }

    static func deal(_ amount: String) -> String {
        #"{"id":"d","type":"deal.closed","lead":"L","at":"2026-03-01T10:15:00Z","actor":"ae","data":{"opportunity":"O","outcome":"won","amount":\#(amount)}}"#
    }

    /// Numbers past what any company or deal has are refused, each naming its field: amounts and
    /// annual revenue up to 10^15, head counts up to ten million.
    @Test(arguments: [
        (captured(#""employees":10000001"#), "data.employees", "must be a whole number from 0 to 10,000,000, found 10000001"),
        (captured(#""employees":1e300"#), "data.employees", "must be a whole number from 0 to 10,000,000, found 1e+300"),
        (captured(#""annualRevenue":1000000000000000.5"#), "data.annualRevenue", "must be a number from 0 to 10^15, found 1000000000000000.5"),
        (captured(#""annualRevenue":1.7976931348623157e308"#), "data.annualRevenue", "must be a number from 0 to 10^15, found 1.7976931348623157e+308"),
        (deal("1e16"), "data.amount", "must be a number from 0 to 10^15, found 1e+16"),
        (deal("-1"), "data.amount", "must be a number from 0 to 10^15, found -1"),
        (#"{"id":"o","type":"opportunity.opened","lead":"L","at":"2026-03-01T10:15:00Z","actor":"ae","data":{"opportunity":"O","amount":2e15}}"#,
         "data.amount", "must be a number from 0 to 10^15, found 2000000000000000.0"),
    ])
    func refusesNumbersOutOfRangeNamingTheField(input: String, field: String, message: String) {
        let error = #expect(throws: EnvelopeError.self) { _ = try decode(input) }
        #expect(error?.field == field)
        #expect(error?.message == message)
    }

    @Test func theBoundsThemselvesAreAccepted() throws {
        #expect(try decode(Self.captured(#""employees":10000000,"annualRevenue":1000000000000000"#)).data["employees"] == 10_000_000)
        #expect(try decode(Self.deal("1e15")).data["amount"] == .number(1e15))
        #expect(try decode(Self.deal("0")).data["amount"] == 0)
    }

    /// JSON text cannot spell a number that is not finite (the parser refuses `1e400`), but an
    /// event built in code, or typed from a CSV cell, can hold one: refused, naming the field.
    @Test(arguments: [Double.infinity, -.infinity, .nan])
    func refusesNumbersThatAreNotFinite(value: Double) {
        let cases: [(EventType, JSONObject, String, String?)] = [
            (.leadQualified, ["score": .number(value)], "data.score", nil),
            (.leadHandedOff, ["to": "ae", "score": .number(value)], "data.score", "m"),
            (.rulesPublished, ["version": "v", "mql_threshold": .number(value)], "data.mql_threshold", nil),
            (.dealClosed, ["opportunity": "O", "outcome": "won", "amount": .number(value)], "data.amount", "ae"),
            (.leadCaptured, ["source": "web", "annualRevenue": .number(value)], "data.annualRevenue", nil),
        ]
        for (type, data, field, actor) in cases {
            var object: JSONObject = ["id": "e", "type": .string(type.rawValue), "at": "2026-03-01T10:15:00Z", "data": .object(data)]
            if type != .rulesPublished { object["lead"] = "L" }
            if let actor { object["actor"] = .string(actor) }
            let error = #expect(throws: EnvelopeError.self, "\(type.rawValue) \(value)") { _ = try Envelope(json: .object(object)) }
            #expect(error?.field == field)
            #expect(error?.message.contains("found \(value)") == true, "\(String(describing: error))")
        }
    }

    @Test func idsAreLimitedTo128Bytes() throws {
        let long = String(repeating: "é", count: 65)  // 130 bytes in UTF-8
        #expect(throws: EnvelopeError.self) {
            _ = try decode(#"{"id":"\#(long)","type":"lead.captured","lead":"L","at":"2026-03-01T10:15:00Z"}"#)
        }
    }

    @Test func rulesPublishedIsNotAboutALead() throws {
        let event = try decode(#"{"id":"r1","type":"rules.published","at":"2026-03-01T10:15:00Z","data":{"version":"v1","mql_threshold":60}}"#)
        #expect(event.lead == nil)
        #expect(event.stream == Envelope.systemStream)
    }

    @Test func theStoredEncodingRoundTripsEveryValueKind() throws {
        let data: JSONObject = [
            "channel": "webinar", "employees": 250, "annualRevenue": 1.5e9, "ratio": 0.125, "negative": -7,
            "big": 1e15, "recycle": true, "nothing": nil, "tags": ["a", 1, false],
            "nested": ["deep": ["deeper": "yes"]], "unicode": "Zoë 😀",
            "aVeryLongCustomFieldNameThatIsLongerThanOneHundredAndTwentySevenBytesSoThatItNeedsTheVarintLengthFormOfTheKeyEncodingInTheCodecXX": "long key",
        ]
        let event = Envelope(id: "evt-1", type: .leadCaptured, lead: "L-1", at: Timestamp(rfc3339: "2026-03-01T10:15:00.123456Z")!, actor: "sync", data: data)
        let payload = EventCodec.encode(event)
        let decoded = try payload.withUnsafeBytes { try EventCodec.decode($0, id: "evt-1", lead: "L-1") }
        #expect(decoded == event)
        let header = try payload.withUnsafeBytes { try EventCodec.header($0) }
        #expect(header.type == .leadCaptured)
        #expect(header.at == event.at)
    }

    @Test func theStoredEncodingIsCompact() {
        let event = Envelope(id: "e", type: .touchEmailClick, lead: "L-1", at: Timestamp(seconds: 0), actor: "marketo-sync", data: ["channel": "email", "campaign": "Newsletter"])
        let json = JSONWriter.render(event.json)
        #expect(EventCodec.encode(event).count * 2 < json.utf8.count)
    }

    @Test func aDamagedPayloadIsAnErrorNotACrash() {
        let payload = EventCodec.encode(Envelope(id: "e", type: .touchChat, lead: "L", at: Timestamp(seconds: 0), data: ["channel": "chat"]))
        for cut in 0..<payload.count {
            let truncated = Array(payload.prefix(cut))
            #expect(throws: CodecError.self) { try truncated.withUnsafeBytes { _ = try EventCodec.decode($0, id: "e", lead: "L") } }
        }
    }

    @Test func everyTypeHasAStableCode() {
        for type in EventType.allCases {
            #expect(EventType(code: type.code) == type)
            // `isTouch` is a range of codes: it must stay the `touch.` types.
            #expect(type.isTouch == type.rawValue.hasPrefix("touch."), "\(type.rawValue)")
        }
        #expect(EventType.leadCaptured.code == 0)
        #expect(EventType.rulesPublished.code == 26)
    }
}
