import Crypto
import Foundation
import LeadDomain
import LedgerJSON

/// Why a tracking message was refused: what is wrong and with which field.
public struct TrackingRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One Segment-spec message (`identify`, `track`, `page`, `screen`, `group`, `alias`) as the
/// events LeadLedger stores, each with how the projection is to place it. Ids are
/// `$t/<source>/<messageId>` (and a `#…` suffix for a message's second and third events): the
/// message id is the idempotency key, scoped by the source (the write key's name), and no
/// native event id may start with `$`.
public enum TrackingMessage {
    public static let types = ["identify", "track", "page", "screen", "group", "alias"]
    /// Ids that browsers and SDKs send when they have none: never an identity.
    public static let placeholders: Set<String> = ["anonymous", "guest", "null", "undefined", "0", "nan", "[object object]", "none", "nil", "-1", "false", "true"]
    static let maxPlaceholderBytes = placeholders.map(\.utf8.count).max() ?? 0
    static let maxIDBytes = Envelope.maxLeadBytes
    static let maxMessageIDBytes = 200

    public struct Context: Sendable {
        public var source: String
        public var receivedAt: Timestamp
        /// The batch's `sentAt`, for messages without their own.
        public var sentAt: Timestamp?
        public var mapping: TrackingMapping
        /// The batch's own `context`, under each message's: what a message's context leaves
        /// out (a campaign, the page, the library), the batch's gives.
        public var batchContext: JSONObject?

        public init(source: String, receivedAt: Timestamp, sentAt: Timestamp?, mapping: TrackingMapping, batchContext: JSONObject? = nil) {
            self.source = source
            self.receivedAt = receivedAt
            self.sentAt = sentAt
            self.mapping = mapping
            self.batchContext = batchContext?.isEmpty == false ? batchContext : nil
        }
    }

    /// The events of `message`; `type` is the endpoint's (`/v1/track`), or `nil` for a batch's
    /// message, which names its own.
    public static func events(of value: JSONValue, type endpointType: String?, context: Context) throws(TrackingRefusal) -> [(Envelope, TrackingRoute?)] {
        guard case .object(var message) = value else { throw TrackingRefusal("a message must be a JSON object, found \(value.typeName)") }
        if let batchContext = context.batchContext {
            switch message["context"] {
            case nil, .null?: message["context"] = .object(batchContext)
            case .object(let own)?: message["context"] = .object(merged(own, under: batchContext))
            case let other?: throw TrackingRefusal("field \"context\": must be an object, found \(other.typeName)")
            }
        }
        let type: String
        if let endpointType {
            type = endpointType
        } else {
            guard let named = message["type"]?.stringValue else { throw TrackingRefusal("field \"type\": required in a batch (identify, track, page, screen, group or alias)") }
            type = named
        }
        guard types.contains(type) else { throw TrackingRefusal("field \"type\": \"\(type)\" is not one of \(types.joined(separator: ", "))") }
        let userId = try identity(message, "userId")
        let anonymousId = try identity(message, "anonymousId")
        if type == "alias" {
            guard userId != nil else { throw TrackingRefusal("field \"userId\": an alias needs the user id the previous id becomes") }
        } else if userId == nil && anonymousId == nil {
            throw TrackingRefusal("a message needs a userId or an anonymousId (neither was sent)")
        }
        let base = "$t/\(context.source)/\(try messageID(message))"
        let at = try time(of: message, context: context)
        let actor = context.source
        let subject = userId ?? Envelope.visitorStream(anonymousId!)
        let route: TrackingRoute? = userId != nil ? .leadOrVisitor(anonymousId ?? userId!) : nil
        func event(_ suffix: String, _ type: EventType, lead: String, _ data: JSONObject) throws(TrackingRefusal) -> Envelope {
            do {
                try Vocabulary.validate(type, data)
            } catch {
                throw TrackingRefusal("\(type.rawValue): \(error)")
            }
            return Envelope(id: base + suffix, type: type, lead: lead, at: at, actor: actor, data: data)
        }
        let properties = message["properties"]?.objectValue ?? [:]
        switch type {
        case "page", "screen":
            var data = touchData(message, properties: properties, mapping: context.mapping)
            if let name = message["name"]?.stringValue { data["name"] = .string(name) }
            if !properties.isEmpty { data["properties"] = .object(properties) }
            return [(try event("", type == "page" ? context.mapping.page : context.mapping.screen, lead: subject, data), route)]
        case "track":
            guard let name = message["event"]?.stringValue, !name.isEmpty else { throw TrackingRefusal("field \"event\": a track needs the event's name") }
            if let touch = context.mapping.events[name] {
                var data = touchData(message, properties: properties, mapping: context.mapping)
                data["event"] = .string(name)
                if !properties.isEmpty { data["properties"] = .object(properties) }
                return [(try event("", touch, lead: subject, data), route)]
            }
            var data: JSONObject = ["event": .string(name)]
            if !properties.isEmpty { data["properties"] = .object(properties) }
            return [(try event("", .activityTracked, lead: subject, data), route)]
        case "identify":
            let traits = profile(message["traits"]?.objectValue ?? message["context"]?["traits"]?.objectValue ?? [:])
            guard let userId else {
                // An anonymous visitor's traits: its lead's profile once it is joined.
                return traits.isEmpty ? [] : [(try event("", .leadEnriched, lead: subject, traits), nil)]
            }
            var captured = traits
            if captured["source"]?.stringValue?.isEmpty ?? true {
                captured["source"] = .string(campaign(message, "source") ?? context.source)
            }
            var events = [(try event("", .leadCaptured, lead: userId, captured), TrackingRoute.captureOrEnrich)]
            if let anonymousId {
                events.append((try event("#anon", .identityLinked, lead: userId, ["visitor": .string(anonymousId)]), .link(alias: false, onlyIfAny: false)))
            }
            // What the user id sent before it was a lead waits in a visitor stream of its own.
            events.append((try event("#user", .identityLinked, lead: userId, ["visitor": .string(userId)]), .link(alias: false, onlyIfAny: true)))
            return events
        case "group":
            guard let groupId = try identity(message, "groupId") else { throw TrackingRefusal("field \"groupId\": a group needs the account's id") }
            var data: JSONObject = ["accountId": .string(groupId)]
            if let traits = message["traits"]?.objectValue, !traits.isEmpty { data["account"] = .object(traits) }
            return [(try event("", .leadEnriched, lead: subject, data), route)]
        default:  // alias
            guard let previousId = try identity(message, "previousId") else { throw TrackingRefusal("field \"previousId\": an alias needs the previous id") }
            guard let userId else { return [] }
            guard previousId != userId else { return [] }
            return [
                (try event("", .leadCaptured, lead: userId, ["source": .string(context.source)]), .captureOrEnrich),
                (try event("#link", .identityLinked, lead: userId, ["visitor": .string(previousId)]), .link(alias: true, onlyIfAny: false)),
            ]
        }
    }

    /// `own` with what it lacks taken from `base`, member by member and into nested objects
    /// (a message's `context.campaign.source` beside the batch's `context.campaign.medium`).
    static func merged(_ own: JSONObject, under base: JSONObject) -> JSONObject {
        var result = base
        for (key, value) in own {
            if case .object(let inner) = value, case .object(let baseInner)? = base[key] {
                result[key] = .object(merged(inner, under: baseInner))
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// An id field: absent or null is `nil`; a number is its text; a placeholder, an empty or
    /// blank one, one too long or one starting with `$` is refused.
    static func identity(_ message: JSONObject, _ field: String) throws(TrackingRefusal) -> String? {
        let text: String
        switch message[field] {
        case nil, .null?: return nil
        case .string(let value)?: text = value
        case .number(let value)? where value.isFinite: text = JSONWriter.render(.number(value))
        case let other?: throw TrackingRefusal("field \"\(field)\": must be a string, found \(other.typeName)")
        }
        // (Every message's ids come here: Foundation's trimming only for ids with white space
        // at an end, and placeholders, all short, compared only with short ids.)
        let utf8 = text.utf8
        let blank: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) || $0 >= 0x80 }
        let trimmed = blank(utf8.first ?? 0x20) || blank(utf8.last ?? 0x20) ? text.trimmingCharacters(in: .whitespacesAndNewlines) : text
        if trimmed.isEmpty { throw TrackingRefusal("field \"\(field)\": is empty or blank, which identifies nobody") }
        if trimmed.utf8.count <= maxPlaceholderBytes, placeholders.contains(trimmed.lowercased()) {
            throw TrackingRefusal("field \"\(field)\": \"\(text)\" is a placeholder, not an id")
        }
        if text.utf8.count > maxIDBytes { throw TrackingRefusal("field \"\(field)\": is \(text.utf8.count) bytes long; at most \(maxIDBytes) are allowed") }
        if text.hasPrefix("$") { throw TrackingRefusal("field \"\(field)\": may not start with '$' (reserved)") }
        return text
    }

    /// The message id, or (without one) a digest of the message, so that a re-sent message is
    /// still recognized.
    static func messageID(_ message: JSONObject) throws(TrackingRefusal) -> String {
        switch message["messageId"] {
        case .string(let id)? where !id.isEmpty:
            guard id.utf8.count <= maxMessageIDBytes else { throw TrackingRefusal("field \"messageId\": is \(id.utf8.count) bytes long; at most \(maxMessageIDBytes) are allowed") }
            return id
        case nil, .null?:
            let digest = SHA256.hash(data: Array(JSONWriter.render(.object(message)).utf8))
            return "sha256:" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
        case let other?:
            throw TrackingRefusal("field \"messageId\": must be a non-empty string, found \(other.typeName)")
        }
    }

    /// When it happened: the client's `timestamp` corrected for the client's clock as Segment
    /// does, `receivedAt − (sentAt − timestamp)`, when `sentAt` is known; the client's time
    /// as it is without it; the time received without either.
    static func time(of message: JSONObject, context: Context) throws(TrackingRefusal) -> Timestamp {
        func parse(_ field: String) throws(TrackingRefusal) -> Timestamp? {
            switch message[field] {
            case nil, .null?: return nil
            case .string(let text)?:
                guard let time = Timestamp(rfc3339: text) else { throw TrackingRefusal("field \"\(field)\": \"\(text)\" is not an ISO 8601 time") }
                return time
            case let other?: throw TrackingRefusal("field \"\(field)\": must be an ISO 8601 time, found \(other.typeName)")
            }
        }
        // (`??` would forget the type of what `parse` throws.)
        let original = try parse("originalTimestamp")
        let given = try parse("timestamp")
        guard let stamped = original ?? given else { return context.receivedAt }
        let ownSentAt = try parse("sentAt")
        guard let sent = ownSentAt ?? context.sentAt else { return stamped }
        return corrected(timestamp: stamped, sentAt: sent, receivedAt: context.receivedAt)
    }

    /// `receivedAt − (sentAt − timestamp)`, kept within the times the store can hold.
    public static func corrected(timestamp: Timestamp, sentAt: Timestamp, receivedAt: Timestamp) -> Timestamp {
        let (delay, overflow) = sentAt.microseconds.subtractingReportingOverflow(timestamp.microseconds)
        let (at, overflow2) = receivedAt.microseconds.subtractingReportingOverflow(delay)
        guard !overflow, !overflow2 else { return timestamp }
        return Timestamp(microseconds: min(max(at, Timestamp.earliest.microseconds), Timestamp.latest.microseconds))
    }

    /// A `context.campaign` field (the UTM parameters), or the page URL's `utm_` parameter
    /// (`page`: the page's URL taken apart, when the caller has it already).
    static func campaign(_ message: JSONObject, _ field: String, page: TrackingURL? = nil) -> String? {
        if let value = message["context"]?["campaign"]?[field]?.stringValue, !value.isEmpty { return value }
        guard let page = page ?? pageField(message, "url").map(TrackingURL.init) else { return nil }
        return page.parameter(field == "name" ? "utm_campaign" : "utm_" + field)
    }

    /// `context.page`'s field, or the page's own property (a `page` call's `properties`).
    static func pageField(_ message: JSONObject, _ field: String) -> String? {
        if let value = message["context"]?["page"]?[field]?.stringValue, !value.isEmpty { return value }
        if let value = message["properties"]?[field]?.stringValue, !value.isEmpty { return value }
        return nil
    }

    /// A touch's fields: channel (the grouping's), campaign, source, medium, content and the
    /// page's URL.
    static func touchData(_ message: JSONObject, properties: JSONObject, mapping: TrackingMapping) -> JSONObject {
        let url = pageField(message, "url"), referrer = pageField(message, "referrer")
        let page = url.map(TrackingURL.init)
        func utm(_ field: String) -> String? { campaign(message, field, page: page) }
        let medium = utm("medium"), utmSource = utm("source")
        let referrerHost = referrer.flatMap { TrackingURL($0).host }.flatMap { $0 == page?.host ? nil : $0 }
        var data: JSONObject = ["channel": .string(mapping.channel(medium: medium, source: utmSource, referrerHost: referrerHost))]
        if let name = utm("name") { data["campaign"] = .string(name) }
        if let source = utmSource ?? referrerHost { data["source"] = .string(source) }
        if let medium { data["medium"] = .string(medium) }
        if let content = utm("content") { data["content"] = .string(content) }
        if let term = utm("term") { data["term"] = .string(term) }
        if let url { data["url"] = .string(url) }
        if let referrer { data["referrer"] = .string(referrer) }
        return data
    }

    /// Traits as profile fields: a value of the wrong kind for a profile field (`employees:
    /// "51-200"`) is kept under `<name>Text` rather than refused or dropped.
    static func profile(_ traits: JSONObject) -> JSONObject {
        var profile = traits
        for field in Vocabulary.profileFields {
            guard let value = profile[field.name] else { continue }
            do {
                try Vocabulary.validate(.leadEnriched, [field.name: value])
            } catch {
                if case .number(let number) = value, case .string = field.kind {
                    profile[field.name] = .string(JSONWriter.render(.number(number)))
                    continue
                }
                profile[field.name] = nil
                profile[field.name + "Text"] = .string(value.stringValue ?? JSONWriter.render(value))
            }
        }
        return profile
    }
}
