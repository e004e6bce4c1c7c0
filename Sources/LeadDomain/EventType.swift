/// The v1 vocabulary (SPEC section 3). The raw value is the wire name; the code is the
/// one-byte tag in the stored encoding and must never change for an existing type.
public enum EventType: String, Sendable, CaseIterable, Hashable {
    case leadCaptured = "lead.captured"
    case leadEnriched = "lead.enriched"
    case leadUnsubscribed = "lead.unsubscribed"
    case leadBounced = "lead.bounced"
    case touchEmailOpen = "touch.email_open"
    case touchEmailClick = "touch.email_click"
    case touchPageView = "touch.page_view"
    case touchFormSubmit = "touch.form_submit"
    case touchContentDownload = "touch.content_download"
    case touchWebinarRegistered = "touch.webinar_registered"
    case touchWebinarAttended = "touch.webinar_attended"
    case touchEventAttended = "touch.event_attended"
    case touchAdClick = "touch.ad_click"
    case touchDemoRequested = "touch.demo_requested"
    case touchPurlVisit = "touch.purl_visit"
    case touchChat = "touch.chat"
    case leadQualified = "lead.qualified"
    case leadHandedOff = "lead.handed_off"
    case salesContacted = "sales.contacted"
    case salesAccepted = "sales.accepted"
    case salesRejected = "sales.rejected"
    case salesQualified = "sales.qualified"
    case opportunityOpened = "opportunity.opened"
    case dealClosed = "deal.closed"
    case leadRecycled = "lead.recycled"
    case leadDisqualified = "lead.disqualified"
    case rulesPublished = "rules.published"
    /// An anonymous visitor joined to the lead (tracking's `identify` or `alias`): the
    /// visitor's events, each at its own time, are part of the lead's journey from here on.
    case identityLinked = "identity.linked"
    /// A join that was not made: both ids are already known leads, or the visitor is already
    /// another lead's. Recorded for people to decide (a merge is never automatic).
    case identityConflict = "identity.conflict"
    /// A tracked action the tracking mapping does not make a touch (its name and properties).
    case activityTracked = "activity.tracked"
    /// Two records of one person joined: in the survivor's stream (data `duplicate`), the
    /// duplicate's events, each at its own time, are the survivor's from here on; the marker in
    /// the duplicate's stream (data `duplicate` and `into`) routes its later events.
    case leadMerged = "lead.merged"
    /// The lead's personal data was erased on request (crypto-shredding: its key destroyed);
    /// data `reason`. It carries no personal data itself.
    case leadErased = "lead.erased"

    /// The stored one-byte tag: the position in this list, which only ever grows at the end
    /// (written out, not looked up; a test checks it against `allCases`).
    public var code: UInt8 {
        switch self {
        case .leadCaptured: 0
        case .leadEnriched: 1
        case .leadUnsubscribed: 2
        case .leadBounced: 3
        case .touchEmailOpen: 4
        case .touchEmailClick: 5
        case .touchPageView: 6
        case .touchFormSubmit: 7
        case .touchContentDownload: 8
        case .touchWebinarRegistered: 9
        case .touchWebinarAttended: 10
        case .touchEventAttended: 11
        case .touchAdClick: 12
        case .touchDemoRequested: 13
        case .touchPurlVisit: 14
        case .touchChat: 15
        case .leadQualified: 16
        case .leadHandedOff: 17
        case .salesContacted: 18
        case .salesAccepted: 19
        case .salesRejected: 20
        case .salesQualified: 21
        case .opportunityOpened: 22
        case .dealClosed: 23
        case .leadRecycled: 24
        case .leadDisqualified: 25
        case .rulesPublished: 26
        case .identityLinked: 27
        case .identityConflict: 28
        case .activityTracked: 29
        case .leadMerged: 30
        case .leadErased: 31
        }
    }

    public init?(code: UInt8) {
        guard Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }

    /// The type whose wire name is exactly these bytes (the transcoder reads names in place;
    /// `init(rawValue:)` would need a `String` first).
    package init?(name: UnsafeRawBufferPointer) {
        guard let start = name.baseAddress else { return nil }
        for (type, wire) in Self.wireNames where wire.count == name.count && memcmp(start, wire, wire.count) == 0 {
            self = type
            return
        }
        return nil
    }

    private static let wireNames: [(EventType, [UInt8])] = allCases.map { ($0, Array($0.rawValue.utf8)) }

    public var isTouch: Bool { code >= 4 && code <= 15 }

    /// Handoff, sales and deal events must name who recorded them.
    public var requiresActor: Bool {
        switch self {
        case .leadHandedOff, .salesContacted, .salesAccepted, .salesRejected, .salesQualified, .opportunityOpened, .dealClosed, .leadMerged, .leadErased:
            return true
        default:
            return false
        }
    }

    /// `rules.published` is about the engine, not a lead.
    public var isLeadEvent: Bool { self != .rulesPublished }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
