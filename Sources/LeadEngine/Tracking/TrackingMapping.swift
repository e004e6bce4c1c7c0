import Foundation
import LeadDomain
import LedgerJSON

/// How tracking's messages become events (`Schemas/tracking-mapping.schema.json`): which
/// `track` names are which touches, what `page` and `screen` are, and the channel grouping
/// that names a touch's channel from its UTM fields and referrer. A document replaces the
/// built-in default member by member (`events`, `page`, `screen`, `channels`,
/// `otherChannel`, `directChannel`); what it leaves out stays the default.
public struct TrackingMapping: Sendable, Equatable {
    /// A rule of the channel grouping: every condition given must hold; the first rule that
    /// matches names the channel.
    public struct ChannelRule: Sendable, Equatable {
        public var channel: String
        /// `utm_medium` is one of these (compared in lower case).
        public var medium: [String]?
        /// `utm_source` (or, without one, the referrer's host) is one of these: a name, or a
        /// host that matches itself and its subdomains (`google.` matches any Google domain).
        public var source: [String]?
        /// The referrer's host is one of these (`*`: any other site's).
        public var referrer: [String]?
        /// Only for a visit without UTM fields.
        public var withoutCampaign: Bool

        public init(channel: String, medium: [String]? = nil, source: [String]? = nil, referrer: [String]? = nil, withoutCampaign: Bool = false) {
            self.channel = channel
            self.medium = medium
            self.source = source
            self.referrer = referrer
            self.withoutCampaign = withoutCampaign
        }
    }

    /// `track` event name → touch type; names not here are stored as `activity.tracked`.
    public var events: [String: EventType]
    public var page: EventType
    public var screen: EventType
    public var channels: [ChannelRule]
    /// The channel of a visit with UTM fields no rule matches.
    public var otherChannel: String
    /// The channel of a visit with neither UTM fields nor another site's referrer.
    public var directChannel: String

    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    // MARK: The default

    static let searchEngines = ["google.", "bing.com", "duckduckgo.com", "yahoo.", "baidu.com", "yandex.", "ecosia.org", "search.brave.com", "startpage.com"]
    static let socialSites = [
        "facebook", "fb", "facebook.com", "instagram", "instagram.com", "ig", "linkedin", "linkedin.com", "lnkd.in", "twitter", "twitter.com",
        "x", "x.com", "t.co", "tiktok", "tiktok.com", "reddit", "reddit.com", "pinterest", "pinterest.com", "youtube", "youtube.com", "snapchat",
    ]

    /// The documented default (README, "Tracking"): the usual B2B events as touches, and a
    /// channel grouping in the spirit of the default channel groups analytics tools publish.
    public static let standard = TrackingMapping(
        events: [
            "Demo Requested": .touchDemoRequested, "Webinar Registered": .touchWebinarRegistered,
            "Webinar Attended": .touchWebinarAttended, "Event Attended": .touchEventAttended,
            "Email Opened": .touchEmailOpen, "Email Link Clicked": .touchEmailClick, "Form Submitted": .touchFormSubmit,
            "Content Downloaded": .touchContentDownload, "Ad Clicked": .touchAdClick, "Chat Started": .touchChat,
        ],
        page: .touchPageView, screen: .touchPageView,
        channels: [
            ChannelRule(channel: "paid_social", medium: ["cpc", "ppc", "paid", "paid_social", "paidsocial", "paid-social", "social_paid", "cpm"], source: socialSites),
            ChannelRule(channel: "paid_search", medium: ["cpc", "ppc", "paid_search", "paidsearch", "paid-search", "sem"]),
            ChannelRule(channel: "display", medium: ["display", "banner", "cpm", "programmatic", "interstitial"]),
            ChannelRule(channel: "email", medium: ["email", "e-mail", "e_mail", "newsletter"]),
            ChannelRule(channel: "email", source: ["email", "newsletter"]),
            ChannelRule(channel: "organic_social", medium: ["social", "social-network", "social-media", "social_network", "social_media", "sm", "organic_social"]),
            ChannelRule(channel: "organic_social", source: socialSites),
            ChannelRule(channel: "organic_search", medium: ["organic", "organic_search"]),
            ChannelRule(channel: "referral", medium: ["referral", "affiliate", "partner"]),
            ChannelRule(channel: "organic_search", referrer: searchEngines, withoutCampaign: true),
            ChannelRule(channel: "organic_social", referrer: socialSites, withoutCampaign: true),
            ChannelRule(channel: "referral", referrer: ["*"], withoutCampaign: true),
        ],
        otherChannel: "other", directChannel: "direct")

    // MARK: Grouping

    /// The channel of a visit: its UTM medium and source (as sent) and its referrer's host
    /// (`nil` when there is none or it is the page's own site).
    public func channel(medium: String?, source: String?, referrerHost: String?) -> String {
        let medium = medium?.lowercased(), utmSource = source?.lowercased()
        let hasCampaign = medium != nil || utmSource != nil
        let source = utmSource ?? referrerHost
        for rule in channels {
            if rule.withoutCampaign && hasCampaign { continue }
            if let mediums = rule.medium {
                guard let medium, mediums.contains(medium) else { continue }
            }
            if let sources = rule.source {
                guard let source, sources.contains(where: { Self.matches(source, $0) }) else { continue }
            }
            if let referrers = rule.referrer {
                guard let referrerHost, referrers.contains(where: { $0 == "*" || Self.matches(referrerHost, $0) }) else { continue }
            }
            return rule.channel
        }
        return hasCampaign ? otherChannel : (referrerHost == nil ? directChannel : otherChannel)
    }

    /// Whether a source or host is `pattern`: equal, a subdomain of it, or (a pattern ending in
    /// a dot) any domain under that name (`google.` for google.com and google.co.uk).
    /// (Compared as bytes, without building `"." + pattern`: this runs for every rule of
    /// every tracked touch.)
    static func matches(_ value: String, _ pattern: String) -> Bool {
        var value = value, pattern = pattern
        return value.withUTF8 { value in pattern.withUTF8 { pattern in matches(UnsafeRawBufferPointer(value), UnsafeRawBufferPointer(pattern)) } }
    }

    private static func matches(_ value: UnsafeRawBufferPointer, _ pattern: UnsafeRawBufferPointer) -> Bool {
        func equal(_ a: UnsafeRawBufferPointer, at offset: Int, _ b: UnsafeRawBufferPointer) -> Bool {
            offset >= 0 && offset + b.count <= a.count && (b.isEmpty || memcmp(a.baseAddress! + offset, b.baseAddress!, b.count) == 0)
        }
        let dot = UInt8(ascii: ".")
        if value.count == pattern.count { return equal(value, at: 0, pattern) }
        // A subdomain: `.pattern` at the end.
        if value.count > pattern.count, equal(value, at: value.count - pattern.count, pattern), value[value.count - pattern.count - 1] == dot {
            return true
        }
        guard pattern.last == dot else { return false }
        // `pattern` at the start, or `.pattern` anywhere inside.
        if equal(value, at: 0, pattern) { return true }
        for index in value.indices where value[index] == dot && equal(value, at: index + 1, pattern) {
            return true
        }
        return false
    }

    // MARK: Reading a document

    public static func load(path: String) throws -> TrackingMapping {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(path: path, message: "cannot read the tracking mapping (\((error as NSError).localizedDescription))")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "<mapping>") throws -> TrackingMapping {
        let json: JSONValue
        if path.lowercased().hasSuffix(".json") {
            do { json = try JSONParser.parse(text) } catch { throw Failure(path: path, message: error.description) }
        } else {
            do { json = try RulesDocument.yaml(text, path: path) } catch let failure as RulesDocument.Failure {
                throw Failure(path: path, message: failure.message)
            }
        }
        return try TrackingMapping(document: json, path: path)
    }

    init(events: [String: EventType], page: EventType, screen: EventType, channels: [ChannelRule], otherChannel: String, directChannel: String) {
        self.events = events
        self.page = page
        self.screen = screen
        self.channels = channels
        self.otherChannel = otherChannel
        self.directChannel = directChannel
    }

    public init(document: JSONValue, path: String = "<mapping>") throws {
        func fail(_ message: String) -> Failure { Failure(path: path, message: message) }
        guard case .object(let object) = document else { throw fail("the mapping must be an object (events, page, screen, channels…)") }
        self = .standard
        func touch(_ value: JSONValue, at field: String) throws -> EventType {
            guard let name = value.stringValue, let type = EventType(rawValue: name), type.isTouch else {
                throw fail("\(field) must name a touch type (touch.page_view, touch.demo_requested…)")
            }
            return type
        }
        func text(_ value: JSONValue?, at field: String) throws -> String {
            guard let name = value?.stringValue, !name.isEmpty else { throw fail("\(field) must be a non-empty string") }
            return name
        }
        func list(_ value: JSONValue?, at field: String) throws -> [String]? {
            guard let value else { return nil }
            guard case .array(let items) = value, !items.isEmpty else { throw fail("\(field) must be a non-empty list of strings") }
            return try items.enumerated().map { try text($1, at: "\(field)[\($0)]").lowercased() }
        }
        for (key, value) in object {
            switch key {
            case "version": continue
            case "events":
                guard case .object(let names) = value else { throw fail("events must map track event names to touch types") }
                events = [:]
                for (name, type) in names { events[name] = try touch(type, at: "events.\(name)") }
            case "page": page = try touch(value, at: "page")
            case "screen": screen = try touch(value, at: "screen")
            case "otherChannel": otherChannel = try text(value, at: "otherChannel")
            case "directChannel": directChannel = try text(value, at: "directChannel")
            case "channels":
                guard case .array(let rules) = value else { throw fail("channels must be a list of rules") }
                channels = try rules.enumerated().map { index, rule in
                    let at = "channels[\(index)]"
                    guard case .object(let fields) = rule else { throw fail("\(at) must be an object") }
                    for name in fields.keys where !["channel", "medium", "source", "referrer", "withoutCampaign"].contains(name) {
                        throw fail("\(at).\(name) is not a rule field (channel, medium, source, referrer, withoutCampaign)")
                    }
                    var withoutCampaign = false
                    if let flag = fields["withoutCampaign"] {
                        guard case .bool(let value) = flag else { throw fail("\(at).withoutCampaign must be true or false") }
                        withoutCampaign = value
                    }
                    return ChannelRule(
                        channel: try text(fields["channel"], at: "\(at).channel"), medium: try list(fields["medium"], at: "\(at).medium"),
                        source: try list(fields["source"], at: "\(at).source"), referrer: try list(fields["referrer"], at: "\(at).referrer"),
                        withoutCampaign: withoutCampaign)
                }
            default:
                throw fail("\(key) is not a mapping field (events, page, screen, channels, otherChannel, directChannel)")
            }
        }
    }
}
