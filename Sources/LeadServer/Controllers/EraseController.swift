import Foundation
import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON

/// `DELETE /v1/leads/{id}` (admin), the reason in the body (`{"reason": "..."}`) or the query
/// (`?reason=`): erases the lead's personal fields (`LeadStore.erase`), recorded with the key's
/// name as the actor. 200 with the erasure; `alreadyErased` when it was erased before (the
/// first erasure's time and reason); 404 for an unknown lead; 409 for a store that keeps
/// personal fields in plaintext.
struct EraseController {
    let store: LeadStore
    let gate: WriteGate

    func add(to admin: RouterGroup<LeadRequestContext>) {
        admin.delete("leads/{id}", use: erase)
    }

    @Sendable func erase(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let reason = try await Self.reason(request)
        let actor = "api:" + (context.key?.name ?? "?")
        let store = self.store
        let outcome: LeadStore.ErasureOutcome
        do {
            outcome = try await gate.withAppend { try await offThePool { try store.erase(id, reason: reason, actor: actor) } }
        } catch let error as ErasureError {
            switch error {
            case .unknownLead: throw Problem(.notFound, error.description)
            case .plaintextStore, .needsMasterKey, .refused: throw Problem(.conflict, error.description)
            }
        }
        return jsonResponse([
            "lead": .string(outcome.lead), "position": .integer(outcome.position), "actor": .string(actor),
            "erased": ["at": .string(outcome.erasure.at.rfc3339), "reason": .string(outcome.erasure.reason)],
            "alreadyErased": .bool(outcome.alreadyErased), "streams": .integer(outcome.streams.count),
        ])
    }

    /// `reason` from the query, else from a JSON body; a 400 naming what is wrong.
    static func reason(_ request: Request) async throws -> String {
        if let query = request.uri.queryParameters["reason"].map(String.init) {
            guard !query.trimmingCharacters(in: .whitespaces).isEmpty else { throw Problem(.badRequest, "reason is empty: say why the lead is erased") }
            return query
        }
        guard let object = try await ObjectBody.read(request, members: ["reason"], example: #"{"reason": "TEXT"}"#) else {
            throw Problem(.badRequest, "reason is missing: send ?reason=TEXT or the body {\"reason\": \"TEXT\"}")
        }
        guard let member = object["reason"] else { throw Problem(.badRequest, "reason is missing: say why the lead is erased") }
        guard let text = member.stringValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Problem(.badRequest, "reason is \(member.typeName == "string" ? "empty" : member.typeName), not a reason")
        }
        return text
    }
}
