import EventLog
import Hummingbird
import LeadDomain
import LeadEngine
import Reports

/// `GET /`: the closed-loop dashboard, rendered from the store on each request — the
/// closed-loop page of the demo and the CLI (every model compared, the chosen model
/// (`?model=`, a selector on the page) and Markov, funnel, lead quality, SLA, monthly) — self-contained like the HTML report (inline SVG, no script,
/// nothing loaded from the network). A browser opens it with the key as the password of the
/// credentials it asks for.
struct DashboardController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("", use: page)
    }

    @Sendable func page(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let chosen = try Query.choice(request, "model", AttributionModel.self) ?? .wShaped
        let names = try store.dimensionNames()
        let name: (UInt32) -> String = { names[$0] ?? "#\($0)" }
        var closedLoop = ClosedLoopReport(now: .now, model: chosen)
        try store.forEachJourney { _, journey in closedLoop.add(journey, name: name) }
        let options = AttributionModel.allCases.map { model in
            "<option value=\"\(model.rawValue)\"\(model == chosen ? " selected" : "")>\(HTMLRenderer.escape(model.rawValue))</option>"
        }.joined()
        let selector = """
            <form method="get" class="selector"><label>Attribution model <select name="model">\(options)</select></label> \
            <button type="submit">Show</button></form>
            """
        let position = (try? store.log.lastPosition) ?? 0
        let html = HTMLRenderer.page(
            closedLoop.reports(name: name),
            title: "LeadLedger — closed loop", subtitle: "Live from the store at position \(position)", preamble: selector)
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
