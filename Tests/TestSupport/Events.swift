import LeadDomain
import LedgerJSON

/// Builders for events in tests: readable scenarios with sensible defaults.
public enum Events {
    public static func at(_ text: String) -> Timestamp {
        guard let time = Timestamp(dateOrDateTime: text) else {
            preconditionFailure("test timestamp \(text) is not RFC 3339")
        }
        return time
    }

    public static func captured(_ lead: String, id: String? = nil, at time: String = "2026-03-01T10:00:00Z", source: String = "website", extra: JSONObject = [:]) -> Envelope {
        var data: JSONObject = ["source": .string(source)]
        for member in extra { data[member.key] = member.value }
        return Envelope(id: id ?? "\(lead)-captured", type: .leadCaptured, lead: lead, at: at(time), actor: "test", data: data)
    }

    public static func touch(_ lead: String, id: String, _ type: EventType = .touchEmailClick, at time: String, channel: String = "email", campaign: String? = nil) -> Envelope {
        var data: JSONObject = ["channel": .string(channel)]
        if let campaign { data["campaign"] = .string(campaign) }
        return Envelope(id: id, type: type, lead: lead, at: at(time), actor: "test", data: data)
    }

    public static func event(_ type: EventType, _ lead: String, id: String, at time: String, actor: String? = "tester", _ data: JSONObject = [:]) -> Envelope {
        Envelope(id: id, type: type, lead: lead, at: at(time), actor: actor, data: data)
    }

    /// One JSONL line for an event.
    public static func line(_ event: Envelope) -> String {
        JSONWriter.render(event.json)
    }
}
