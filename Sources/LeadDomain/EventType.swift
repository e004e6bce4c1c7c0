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

    /// The stored one-byte tag: the position in this list, which only ever grows at the end.
    public var code: UInt8 { Self.codes[self]! }

    public init?(code: UInt8) {
        guard Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }

    private static let codes: [EventType: UInt8] = Dictionary(
        uniqueKeysWithValues: allCases.enumerated().map { ($1, UInt8($0)) })

    public var isTouch: Bool { rawValue.hasPrefix("touch.") }

    /// Handoff, sales and deal events must name who recorded them.
    public var requiresActor: Bool {
        switch self {
        case .leadHandedOff, .salesContacted, .salesAccepted, .salesRejected, .salesQualified, .opportunityOpened, .dealClosed:
            return true
        default:
            return false
        }
    }

    /// `rules.published` is about the engine, not a lead.
    public var isLeadEvent: Bool { self != .rulesPublished }
}
