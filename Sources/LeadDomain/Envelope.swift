import LedgerJSON

/// One event as it arrives (SPEC section 2), validated.
public struct Envelope: Sendable, Hashable {
    public static let maxIDBytes = 128
    public static let maxLeadBytes = 128
    public static let maxActorBytes = 128
    /// Longer `type` and `at` texts are refused before they are looked at.
    package static let maxTypeBytes = 64
    package static let maxTimeBytes = 64
    /// The stream that holds events that are not about a lead (`rules.published`).
    public static let systemStream = "$rules"
    /// The streams of anonymous visitors (tracking's `anonymousId`) start with this: like every
    /// `$` stream, no lead can be named so.
    public static let visitorStreamPrefix = "$anon:"
    /// Ids the engine's tracking intake assigns start with `$` (`$t/<key>/<messageId>`), which
    /// no event sent to `/v1/events` or ingested may use, so the two can never collide.
    public static let reservedIDPrefix: UInt8 = UInt8(ascii: "$")

    public static func visitorStream(_ visitor: String) -> String { visitorStreamPrefix + visitor }

    public var id: String
    public var type: EventType
    /// `nil` only for `rules.published`.
    public var lead: String?
    public var at: Timestamp
    public var actor: String?
    public var data: JSONObject

    public init(id: String, type: EventType, lead: String?, at: Timestamp, actor: String? = nil, data: JSONObject = [:]) {
        self.id = id
        self.type = type
        self.lead = lead
        self.at = at
        self.actor = actor
        self.data = data
    }

    /// The log stream the event belongs to: its lead, or the system stream.
    public var stream: String { lead ?? Self.systemStream }
}

/// Why an envelope was refused: the field and what is wrong with it.
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON path of the offending field (`at`, `data.channel`), or `nil` for the whole line.
    public var field: String?
    public var message: String

    public init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String {
        field.map { "field \"\($0)\": \(message)" } ?? message
    }
}

extension Envelope {

    /// Decodes and validates an envelope from a parsed JSON line.
    public init(json: JSONValue) throws(EnvelopeError) {
        guard case .object(let object) = json else {
            throw EnvelopeError(field: nil, "an event must be a JSON object, found \(json.typeName)")
        }
        for member in object.members {
            switch member.key {
            case "id", "type", "lead", "at", "actor", "data": continue
            default: throw EnvelopeError(field: member.key, "unknown field; an event has id, type, lead, at, actor and data")
            }
        }
        let id = try Self.string(object, "id", maxBytes: Self.maxIDBytes)
        guard id.utf8.first != Self.reservedIDPrefix else {
            throw EnvelopeError(field: "id", "an event id may not start with '$' (reserved for the ids tracking assigns)")
        }
        let typeName = try Self.string(object, "type", maxBytes: Self.maxTypeBytes)
        guard let type = EventType(rawValue: typeName) else {
            throw EnvelopeError(field: "type", "unknown event type \"\(typeName)\"")
        }
        let lead: String?
        if type.isLeadEvent {
            let name = try Self.string(object, "lead", maxBytes: Self.maxLeadBytes)
            guard !name.hasPrefix("$") else {
                throw EnvelopeError(field: "lead", "a lead id may not start with '$' (reserved for system streams)")
            }
            lead = name
        } else {
            lead = try Self.optionalString(object, "lead", maxBytes: Self.maxLeadBytes)
            if lead != nil {
                throw EnvelopeError(field: "lead", "\(type.rawValue) is not about a lead and takes no lead")
            }
        }
        let atText = try Self.string(object, "at", maxBytes: Self.maxTimeBytes)
        guard let at = Timestamp(rfc3339: atText) else {
            throw EnvelopeError(field: "at", "\"\(atText)\" is not an RFC 3339 time (e.g. 2026-03-01T10:15:00Z)")
        }
        let actor = try Self.optionalString(object, "actor", maxBytes: Self.maxActorBytes)
        if type.requiresActor && actor == nil {
            throw EnvelopeError(field: "actor", "required for \(type.rawValue): who recorded it (a login or an integration's name)")
        }
        let data: JSONObject
        switch object["data"] {
        case nil, .null?: data = [:]
        case .object(let value)?: data = value
        case let other?: throw EnvelopeError(field: "data", "must be an object, found \(other.typeName)")
        }
        try Vocabulary.validate(type, data)
        self.init(id: id, type: type, lead: lead, at: at, actor: actor, data: data)
    }

    private static func string(_ object: JSONObject, _ field: String, maxBytes: Int) throws(EnvelopeError) -> String {
        guard let value = try optionalString(object, field, maxBytes: maxBytes) else {
            throw EnvelopeError(field: field, "required")
        }
        return value
    }

    private static func optionalString(_ object: JSONObject, _ field: String, maxBytes: Int) throws(EnvelopeError) -> String? {
        switch object[field] {
        case nil, .null?:
            return nil
        case .string(let value)?:
            if value.isEmpty { throw EnvelopeError(field: field, "must not be empty") }
            if value.utf8.count > maxBytes {
                throw EnvelopeError(field: field, "is \(value.utf8.count) bytes long; at most \(maxBytes) are allowed")
            }
            return value
        case let other?:
            throw EnvelopeError(field: field, "must be a string, found \(other.typeName)")
        }
    }

    /// The envelope as JSON, in the wire field order.
    public var json: JSONValue {
        var object: JSONObject = ["id": .string(id), "type": .string(type.rawValue)]
        if let lead { object["lead"] = .string(lead) }
        object["at"] = .string(at.rfc3339)
        if let actor { object["actor"] = .string(actor) }
        object["data"] = .object(data)
        return .object(object)
    }
}
