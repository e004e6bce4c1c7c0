import LedgerJSON

/// The typed `data` of each event type (SPEC section 3), checked the same way as
/// `Schemas/event-data.schema.json`: known fields must have their type, required ones must be
/// present, and other fields are allowed (custom profile or tracking fields).
public enum Vocabulary {
    public enum FieldKind: Sendable, Equatable {
        case string
        case nonEmptyString
        case nonNegativeInteger
        case nonNegativeNumber
        case number
        case boolean
        case oneOf([String])
        case currency
        case numberOrNull
        case stringOrNull
    }

    public struct Field: Sendable {
        public let name: String
        public let kind: FieldKind
        public let required: Bool
    }

    static func field(_ name: String, _ kind: FieldKind, required: Bool = false) -> Field {
        Field(name: name, kind: kind, required: required)
    }

    public static let profileFields: [Field] = [
        field("email", .string), field("firstName", .string), field("lastName", .string), field("title", .string),
        field("company", .string), field("domain", .string), field("industry", .string),
        field("employees", .nonNegativeInteger), field("annualRevenue", .nonNegativeNumber),
        field("country", .string), field("region", .string), field("campaign", .string), field("channel", .string),
    ]

    public static let rejectionReasons = [
        "not_fit", "wrong_size", "wrong_contact", "not_interested", "no_budget", "bad_timing", "bad_data", "duplicate", "competitor", "other",
    ]

    static let touchFields: [Field] = [
        field("channel", .nonEmptyString, required: true), field("campaign", .string), field("content", .string),
        field("url", .string), field("medium", .string), field("source", .string),
    ]

    /// The fields of each type, built once (validation runs for every ingested line).
    static let fieldTable: [[Field]] = EventType.allCases.map(buildFields)

    public static func fields(of type: EventType) -> [Field] {
        fieldTable[Int(type.code)]
    }

    static func buildFields(_ type: EventType) -> [Field] {
        switch type {
        case .leadCaptured: return profileFields + [field("source", .nonEmptyString, required: true)]
        case .leadEnriched: return profileFields + [field("source", .string)]
        case .leadUnsubscribed, .leadBounced, .leadRecycled, .leadDisqualified: return [field("reason", .string)]
        case .touchEmailOpen, .touchEmailClick, .touchPageView, .touchFormSubmit, .touchContentDownload,
             .touchWebinarRegistered, .touchWebinarAttended, .touchEventAttended, .touchAdClick,
             .touchDemoRequested, .touchPurlVisit, .touchChat:
            return touchFields
        case .leadQualified: return [field("score", .number), field("rulesVersion", .string), field("by", .oneOf(["rules", "manual"]))]
        case .leadHandedOff:
            return [field("to", .nonEmptyString, required: true), field("from", .string), field("reason", .string),
                    field("note", .string), field("score", .numberOrNull), field("rulesVersion", .stringOrNull)]
        case .salesContacted: return [field("channel", .oneOf(["call", "email", "meeting"])), field("note", .string)]
        case .salesAccepted, .salesQualified: return [field("note", .string)]
        case .salesRejected: return [field("reason", .oneOf(rejectionReasons), required: true), field("note", .string), field("recycle", .boolean)]
        case .opportunityOpened:
            return [field("opportunity", .nonEmptyString, required: true), field("amount", .nonNegativeNumber), field("currency", .currency)]
        case .dealClosed:
            return [field("opportunity", .nonEmptyString, required: true), field("outcome", .oneOf(["won", "lost"]), required: true),
                    field("amount", .nonNegativeNumber), field("currency", .currency), field("reason", .string)]
        case .rulesPublished: return [field("version", .nonEmptyString, required: true), field("mql_threshold", .number, required: true)]
        }
    }

    /// Checks an event's `data` against its type; the error names the field (`data.channel`).
    public static func validate(_ type: EventType, _ data: JSONObject) throws(EnvelopeError) {
        for field in fields(of: type) {
            guard let value = data[field.name] else {
                if field.required {
                    throw EnvelopeError(field: "data.\(field.name)", "required for \(type.rawValue)")
                }
                continue
            }
            if let problem = problem(with: value, kind: field.kind) {
                throw EnvelopeError(field: "data.\(field.name)", problem)
            }
        }
        switch type {
        case .leadEnriched where data.isEmpty:
            throw EnvelopeError(field: "data", "lead.enriched needs at least one profile field")
        case .dealClosed where data["outcome"] == .string("won") && data["amount"] == nil:
            throw EnvelopeError(field: "data.amount", "required when the outcome is won (it is the revenue)")
        default:
            break
        }
    }

    static func problem(with value: JSONValue, kind: FieldKind) -> String? {
        switch (kind, value) {
        case (.string, .string), (.boolean, .bool), (.number, .number), (.numberOrNull, .number), (.numberOrNull, .null),
             (.stringOrNull, .string), (.stringOrNull, .null):
            return nil
        case (.nonEmptyString, .string(let text)):
            return text.isEmpty ? "must not be empty" : nil
        case (.nonNegativeInteger, .number(let number)):
            return number >= 0 && number == number.rounded() ? nil : "must be a whole number ≥ 0, found \(JSONWriter.render(value))"
        case (.nonNegativeNumber, .number(let number)):
            return number >= 0 ? nil : "must be ≥ 0, found \(JSONWriter.render(value))"
        case (.oneOf(let allowed), .string(let text)):
            return allowed.contains(text) ? nil : "\"\(text)\" is not one of \(allowed.joined(separator: ", "))"
        case (.currency, .string(let text)):
            return text.utf8.count == 3 && text.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) ? nil : "\"\(text)\" is not an ISO 4217 code such as USD"
        default:
            return "must be \(expected(kind)), found \(value.typeName)"
        }
    }

    static func expected(_ kind: FieldKind) -> String {
        switch kind {
        case .string, .nonEmptyString, .oneOf, .currency: return "a string"
        case .nonNegativeInteger: return "a whole number"
        case .nonNegativeNumber, .number: return "a number"
        case .boolean: return "true or false"
        case .numberOrNull: return "a number or null"
        case .stringOrNull: return "a string or null"
        }
    }
}
