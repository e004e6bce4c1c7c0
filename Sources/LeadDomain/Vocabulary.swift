import LedgerJSON

/// The typed `data` of each event type (SPEC section 3), checked the same way as
/// `Schemas/event-data.schema.json`: known fields must have their type, required ones must be
/// present, and other fields are allowed (custom profile or tracking fields).
public enum Vocabulary {
    public enum FieldKind: Sendable, Equatable {
        case string
        case nonEmptyString
        /// A whole number from 0 to the bound.
        case nonNegativeInteger(atMost: Double)
        /// A number from 0 to the bound.
        case nonNegativeNumber(atMost: Double)
        /// A finite number.
        case number
        case boolean
        case oneOf([String])
        case currency
        /// A finite number, or null.
        case numberOrNull
        case stringOrNull
    }

    /// The largest amount (a deal's, an opportunity's) and annual revenue accepted: no company
    /// or deal comes near 10^15, and sums of such amounts stay far from what a double or a
    /// report's integers hold. `Schemas/event-data.schema.json` states the same bounds.
    public static let maximumAmount: Double = 1e15
    /// The largest head count accepted (`employees`): more than any company has.
    public static let maximumEmployees: Double = 10_000_000

    public struct Field: Sendable {
        public let name: String
        public let kind: FieldKind
        public let required: Bool
        /// The name's one-byte code in the stored form (`EventCodec`), when it has one: the
        /// transcoder finds the field among a line's members by it.
        package let code: UInt8?
    }

    static func field(_ name: String, _ kind: FieldKind, required: Bool = false) -> Field {
        Field(name: name, kind: kind, required: required, code: EventCodec.knownKeyCode(name))
    }

    public static let profileFields: [Field] = [
        field("email", .string), field("firstName", .string), field("lastName", .string), field("title", .string),
        field("company", .string), field("domain", .string), field("industry", .string),
        field("employees", .nonNegativeInteger(atMost: maximumEmployees)), field("annualRevenue", .nonNegativeNumber(atMost: maximumAmount)),
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
        case .salesRejected: return [field("reason", .oneOf(rejectionReasons), required: true), field("note", .string), field("recycle", .boolean),
                                      field("duplicateOf", .nonEmptyString)]
        case .opportunityOpened:
            return [field("opportunity", .nonEmptyString, required: true), field("amount", .nonNegativeNumber(atMost: maximumAmount)), field("currency", .currency)]
        case .dealClosed:
            return [field("opportunity", .nonEmptyString, required: true), dealOutcome,
                    dealAmount, field("currency", .currency), field("reason", .string)]
        case .rulesPublished: return [field("version", .nonEmptyString, required: true), field("mql_threshold", .number, required: true)]
        case .identityLinked: return [field("visitor", .nonEmptyString, required: true)]
        case .identityConflict: return [field("visitor", .string), field("with", .nonEmptyString, required: true), field("reason", .string)]
        case .activityTracked: return [field("event", .nonEmptyString, required: true)]
        case .leadMerged: return [field("duplicate", .nonEmptyString, required: true), field("into", .nonEmptyString), field("reason", .string)]
        case .leadErased: return [field("reason", .nonEmptyString, required: true)]
        }
    }

    /// The two `deal.closed` fields a rule spans: a won deal needs its amount.
    @usableFromInline package static let dealOutcome = field("outcome", .oneOf(["won", "lost"]), required: true)
    @usableFromInline package static let dealAmount = field("amount", .nonNegativeNumber(atMost: maximumAmount))

    /// Checks an event's `data` against its type; the error names the field (`data.channel`).
    public static func validate(_ type: EventType, _ data: JSONObject) throws(EnvelopeError) {
        switch firstProblem(type, ObjectFields(object: data)) {
        case nil:
            return
        case .missing(let field)?:
            throw EnvelopeError(field: "data.\(field.name)", "required for \(type.rawValue)")
        case .invalid(let field)?:
            // `firstProblem` found the member, so the lookup succeeds; `.null` only keeps the
            // message total.
            throw EnvelopeError(field: "data.\(field.name)", problem(with: data[field.name] ?? .null, kind: field.kind))
        case .noProfileField?:
            throw EnvelopeError(field: "data", "lead.enriched needs at least one profile field")
        case .wonWithoutAmount?:
            throw EnvelopeError(field: "data.amount", "required when the outcome is won (it is the revenue)")
        }
    }

    /// A member of `data` as the rules see it: its JSON kind, and the number or the UTF-8 text.
    /// Generic over the text so that a parsed object (`String.UTF8View`) and the raw bytes of
    /// a line (`EventTranscoder`) are checked by the same code.
    @usableFromInline package enum FieldValue<Text: Collection<UInt8>> {
        case null
        case bool(Bool)
        case number(Double)
        case string(Text)
        /// An array or an object.
        case composite
    }

    /// What the rules read of a `data` object.
    @usableFromInline package protocol DataFields {
        associatedtype Text: Collection<UInt8>
        var isEmpty: Bool { get }
        /// The member named `field.name`, or `nil` when there is none.
        func value(of field: Field) -> FieldValue<Text>?
    }

    /// The first rule `data` breaks, in the order the general path reports them.
    @usableFromInline package enum Problem {
        case missing(Field)
        case invalid(Field)
        case noProfileField
        case wonWithoutAmount
    }

    /// The single statement of the data rules; `validate` turns its answer into a message,
    /// `EventTranscoder` only needs to know whether there is one.
    @inlinable package static func firstProblem(_ type: EventType, _ data: some DataFields) -> Problem? {
        // (By index: `for field in` copies each field, its name and kind retained and
        // released, and this runs for every event ingested.)
        let fields = fields(of: type)
        for index in fields.indices {
            guard let value = data.value(of: fields[index]) else {
                if fields[index].required { return .missing(fields[index]) }
                continue
            }
            if !accepts(value, as: fields[index].kind) { return .invalid(fields[index]) }
        }
        switch type {
        case .leadEnriched where data.isEmpty:
            return .noProfileField
        case .dealClosed:
            if case .string(let outcome)? = data.value(of: dealOutcome), outcome.elementsEqual("won".utf8),
               data.value(of: dealAmount) == nil {
                return .wonWithoutAmount
            }
            return nil
        default:
            return nil
        }
    }

    /// Whether a value has the field's kind. Text compares by bytes: the allowed values are
    /// ASCII letters and underscores, which no other Unicode text is canonically equal to,
    /// so this agrees with `String` equality.
    @inlinable package static func accepts<Text>(_ value: FieldValue<Text>, as kind: FieldKind) -> Bool {
        switch (kind, value) {
        case (.string, .string), (.boolean, .bool), (.numberOrNull, .null), (.stringOrNull, .string), (.stringOrNull, .null):
            return true
        case (.number, .number(let number)), (.numberOrNull, .number(let number)):
            return number.isFinite
        case (.nonEmptyString, .string(let text)):
            return !text.isEmpty
        case (.nonNegativeInteger(let maximum), .number(let number)):
            // (Not NaN: every comparison with it is false.)
            return number >= 0 && number <= maximum && number == number.rounded()
        case (.nonNegativeNumber(let maximum), .number(let number)):
            return number >= 0 && number <= maximum
        case (.oneOf(let allowed), .string(let text)):
            return allowed.contains { $0.utf8.elementsEqual(text) }
        case (.currency, .string(let text)):
            return text.count == 3 && text.allSatisfy { $0 >= 65 && $0 <= 90 }
        default:
            return false
        }
    }

    /// A parsed `data` object, for the rules.
    struct ObjectFields: DataFields {
        let object: JSONObject
        var isEmpty: Bool { object.isEmpty }

        func value(of field: Field) -> FieldValue<String.UTF8View>? {
            switch object[field.name] {
            case nil: return nil
            case .null?: return .null
            case .bool(let flag)?: return .bool(flag)
            case .number(let number)?: return .number(number)
            case .string(let text)?: return .string(text.utf8)
            case .array?, .object?: return .composite
            }
        }
    }

    /// Why a value that `accepts` refused is wrong, for the error message.
    static func problem(with value: JSONValue, kind: FieldKind) -> String {
        switch (kind, value) {
        case (.nonEmptyString, .string):
            return "must not be empty"
        case (.nonNegativeInteger(let maximum), .number(let number)):
            return "must be a whole number from 0 to \(bound(maximum)), found \(shown(number))"
        case (.nonNegativeNumber(let maximum), .number(let number)):
            return "must be a number from 0 to \(bound(maximum)), found \(shown(number))"
        case (.number, .number(let number)), (.numberOrNull, .number(let number)):
            return "must be a finite number, found \(shown(number))"
        case (.oneOf(let allowed), .string(let text)):
            return "\"\(text)\" is not one of \(allowed.joined(separator: ", "))"
        case (.currency, .string(let text)):
            return "\"\(text)\" is not an ISO 4217 code such as USD"
        default:
            return "must be \(expected(kind)), found \(value.typeName)"
        }
    }

    /// A bound in a message, as people write it.
    static func bound(_ number: Double) -> String {
        number == maximumAmount ? "10^15" : number == maximumEmployees ? "10,000,000" : JSONWriter.render(.number(number))
    }

    /// A value in a message: as JSON spells it, and what JSON cannot spell (`inf`, `nan`) as
    /// Swift does.
    static func shown(_ number: Double) -> String {
        number.isFinite ? JSONWriter.render(.number(number)) : "\(number)"
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
