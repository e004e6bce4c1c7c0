import EventLog
import LeadDomain

/// How the projection places an event that tracking (the Segment-compatible intake) sent,
/// where only the log's order can decide: whether its lead is known yet, whether its visitor
/// is already joined to a lead. Decided once, when the event is admitted; what is stored is
/// the decision (stream and type), so a replay needs no route.
public enum TrackingRoute: Sendable, Equatable {
    /// A message with a user id: to that lead if it is known, else to this visitor's stream
    /// (the anonymous id, or the user id itself) until an identify joins them.
    case leadOrVisitor(String)
    /// An identify's profile: `lead.captured` the first time, `lead.enriched` after (and
    /// nothing when there is nothing to add).
    case captureOrEnrich
    /// An `identity.linked`: `alias` when the visitor id may itself be a known lead (a join of
    /// two leads is recorded as an `identity.conflict` instead); `onlyIfAny` when a link of a
    /// visitor with no events is not worth storing (the user id's own visitor stream).
    case link(alias: Bool, onlyIfAny: Bool)
}

extension LeadStore {
    /// A tracked event, with how the projection is to place it.
    public static func pending(_ event: Envelope, route: TrackingRoute?) -> PendingRecord {
        PendingRecord(id: event.id, stream: event.stream, payload: EventCodec.encode(event), attachment: DecodedEvent(event, route: route))
    }

    /// The reasons of the refusals that mean "nothing to store" rather than a fault in what
    /// was sent (an identify that adds nothing, a join already made), for callers that report
    /// only real refusals.
    public static func isQuietRefusal(_ reason: String) -> Bool {
        reason.hasPrefix(LifecycleProjection.quietRefusal)
    }
}
