import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON

/// `GET /v1/leads/{id}` (`?asOf=`), `/v1/leads/{id}/history`, `/v1/leads/{id}/score`: the
/// CLI's JSON shapes (`LeadJSON`); an unknown lead is a 404, a lead merged into another
/// answers with the lead it ended in (and `merged`).
struct LeadsController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("leads/{id}", use: show)
        group.get("leads/{id}/history", use: history)
        group.get("leads/{id}/score", use: score)
    }

    @Sendable func show(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let time = try Query.time(request, "asOf")
        if time == nil, let (state, chain) = try store.resolvedLead(id), !chain.isEmpty {
            // A merged-away id: the lead it ended in, saying so.
            return jsonResponse(LeadJSON.lead(
                store.shown(state), score: try store.score(of: state.lead, asOf: nil)?.score, resolvedFrom: id, chain: chain,
                erasure: store.erasure(of: state.lead)))
        }
        let found = try time.map { try store.lead(id, asOf: $0) } ?? store.lead(id)
        guard let state = found else {
            if let time, try store.lead(id) != nil {
                throw Problem(.notFound, "lead \(id) did not exist yet at \(time.rfc3339)")
            }
            throw Problem(.notFound, "unknown lead \(id)")
        }
        return jsonResponse(LeadJSON.lead(store.shown(state), score: try store.score(of: id, asOf: time)?.score, erasure: store.erasure(of: id)))
    }

    @Sendable func history(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let rows = try store.history(of: id)
        guard !rows.isEmpty else { throw Problem(.notFound, "unknown lead \(id)") }
        return jsonResponse(["rows": .array(rows.map(LeadJSON.event))])
    }

    @Sendable func score(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let time = try Query.time(request, "asOf")
        guard try store.lead(id) != nil else { throw Problem(.notFound, "unknown lead \(id)") }
        guard let rules = try store.currentRules() else { throw Problem(.notFound, "no scoring rules are published, so lead \(id) has no score") }
        // A merged-away lead's score is its survivor's (as `GET /v1/leads/{id}` answers).
        let lead = time == nil ? try store.currentLead(id) : id
        guard let breakdown = try store.score(of: lead, asOf: time, explain: true) else {
            throw Problem(.notFound, "lead \(id) did not exist yet at \(time?.rfc3339 ?? "that time")")
        }
        return jsonResponse(LeadJSON.score(lead: lead, breakdown, rulesVersion: rules.version, asOf: time ?? .now, resolvedFrom: id))
    }
}

/// `GET /v1/audit` with the CLI's filters (`lead`, `actor`, `type`, `since`, `until`), paged by
/// a cursor: `after` (a position), `limit` (1…1000, default 100); the answer's `next` is the
/// `after` of the next page, null at the end.
struct AuditController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("audit", use: audit)
    }

    @Sendable func audit(_ request: Request, context: LeadRequestContext) async throws -> Response {
        // (An empty parameter is no filter: `lead=` is what a form sends for "any lead".)
        let filter = AuditFilter(
            lead: Query.text(request, "lead"), actor: Query.text(request, "actor"), typePrefix: Query.text(request, "type"),
            since: try Query.time(request, "since"), until: try Query.time(request, "until"))
        let after = try Query.integer(request, "after", in: 0...UInt64.max) ?? 0
        let limit = try Query.integer(request, "limit", in: 1...1_000) ?? 100
        let page = try store.auditPage(filter, after: after, limit: Int(limit))
        return jsonResponse(["rows": .array(page.rows.map(LeadJSON.event)), "next": page.next.map { .integer($0) } ?? .null])
    }
}

/// `GET /v1/events?after=P&limit=N`: the log in pages, for connectors that follow it with a
/// chained offset (`next` is the `after` of the next page; null when the log has no more yet).
struct LogController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("events", use: page)
    }

    @Sendable func page(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let after = try Query.integer(request, "after", in: 0...UInt64.max) ?? 0
        let limit = try Query.integer(request, "limit", in: 1...10_000) ?? 1_000
        let page = try store.auditPage(AuditFilter(), after: after, limit: Int(limit))
        return jsonResponse(["events": .array(page.rows.map(LeadJSON.event)), "next": .integer(page.rows.last?.position ?? after)])
    }
}

/// Reading query parameters, with a 400 that names the parameter.
enum Query {
    static func time(_ request: Request, _ name: String) throws -> Timestamp? {
        guard let text = request.uri.queryParameters[name[...]].map(String.init), !text.isEmpty else { return nil }
        guard let time = Timestamp(dateOrDateTime: text) else {
            throw Problem(.badRequest, "\(name)=\(text) is not a time: use RFC 3339 (2026-03-01T10:15:00Z) or a date (2026-03-01)")
        }
        return time
    }

    static func integer(_ request: Request, _ name: String, in range: ClosedRange<UInt64>) throws -> UInt64? {
        guard let text = request.uri.queryParameters[name[...]].map(String.init), !text.isEmpty else { return nil }
        guard let value = UInt64(text), range.contains(value) else {
            throw Problem(.badRequest, "\(name)=\(text) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
