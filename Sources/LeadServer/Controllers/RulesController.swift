import EventLog
import Foundation
import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON

/// `GET /v1/rules` (read): the rules in force. `POST /v1/rules` (admin): publish a rules
/// document (YAML or JSON) — the same document again completes an interrupted publish.
/// `POST /v1/rescore` (read: the dry-run diff for a document; `?apply=true`, admin: publish
/// it and qualify now the leads that reach the threshold).
struct RulesController {
    let store: LeadStore
    let gate: WriteGate
    let keys: KeyStore

    func add(read: RouterGroup<LeadRequestContext>, admin: RouterGroup<LeadRequestContext>) {
        read.get("rules", use: show)
        read.post("rescore", use: rescore)
        admin.post("rules", use: publish)
    }

    @Sendable func show(_ request: Request, context: LeadRequestContext) async throws -> Response {
        guard let rules = try store.currentRules() else { throw Problem(.notFound, "no scoring rules are published yet") }
        return jsonResponse(["version": .string(rules.version), "document": .object(rules.document)])
    }

    func document(_ request: Request) async throws -> ScoringRules {
        let body = try await request.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        do {
            return try RulesDocument.parse(text, path: "the request body")
        } catch {
            throw Problem(.badRequest, "the rules document is not valid: \(error)")
        }
    }

    @Sendable func publish(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let rules = try await document(request)
        let actor = "api:" + (context.key?.name ?? "?")
        let (store, gate) = (self.store, self.gate)
        // Rules on personal fields never hold in a store that encrypts them (scoring never
        // decrypts): said in the answer, as the CLI says it on stderr.
        let warnings = store.warningForRulesOnPersonalFields(rules).map { JSONValue.array([.string($0)]) }
        return try await gate.alone {
            try await offThePool {
                switch try store.publishRules(rules, actor: actor, at: .now) {
                case .appended(let position):
                    var body: JSONObject = ["published": .string(rules.version), "position": .integer(position)]
                    body["warnings"] = warnings
                    return jsonResponse(.object(body), status: .created)
                case .duplicate(let position):
                    guard try store.isPublished(rules, at: position) else {
                        throw Problem(.conflict, "rules version \(rules.version) was already published with another document; give the changed document a new version")
                    }
                    return jsonResponse(["published": .string(rules.version), "position": .integer(position), "alreadyPublished": true])
                case .rejected(let reason):
                    throw Problem(.badRequest, reason)
                case .conflict:
                    throw Problem(.conflict, "the rules could not be published (conflict)")
                }
            }
        }
    }

    @Sendable func rescore(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let apply = request.uri.queryParameters["apply"].map { $0 == "true" || $0 == "1" } ?? false
        if apply, context.key?.role != .admin {
            throw Problem(.forbidden, "the key \(context.key?.name ?? "?") has the role \(context.key?.role.rawValue ?? "?"), and apply=true needs admin")
        }
        let rules = try await document(request)
        let asOf = try Query.time(request, "asOf")
        let actor = "api:" + (context.key?.name ?? "?")
        let store = self.store
        let report = try await offThePool { try store.rescore(with: rules, asOf: asOf) }
        var answer = LeadJSON.rescore(report)
        if apply {
            let qualified = try await gate.alone {
                try await offThePool {
                    do {
                        return try store.apply(rules, actor: actor, at: .now)
                    } catch let error as ScoringError {
                        throw Problem(.conflict, error.description)
                    }
                }
            }
            answer = .object(answer.objectValue.map { object in
                var object = object
                object["applied"] = true
                object["qualifiedNow"] = .array(qualified.map(JSONValue.string))
                return object
            } ?? [:])
        }
        return jsonResponse(answer)
    }
}
