import EventLog
import LeadDomain

/// An event already decoded from a pending record's payload, handed along with the record (its
/// attachment) so that the projection does not decode it again. A class: casting an attachment
/// to it is a type check and a retain, where casting to `Envelope` copies the whole event.
final class DecodedEvent: Sendable {
    let event: Envelope
    /// For an event sent through tracking: how to place it (see `TrackingRoute`).
    let route: TrackingRoute?

    init(_ event: Envelope, route: TrackingRoute? = nil) {
        self.event = event
        self.route = route
    }

    /// The decoded event a pending record's attachment is, if it is one. (Pass the box
    /// around rather than an `Envelope?`: copying or destroying an optional event goes through
    /// the runtime's generic value witnesses, which cost more than applying a touch.)
    static func of(_ attachment: (any RecordAttachment)?) -> DecodedEvent? {
        attachment as? DecodedEvent
    }
}
