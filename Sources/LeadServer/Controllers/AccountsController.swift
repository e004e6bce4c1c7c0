import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON

/// `GET /v1/accounts/{id}` (`?asOf=` ends the engagement window): `account show`'s JSON
/// (`LeadJSON.account`); an account no lead belongs to is a 404.
struct AccountsController {
    let store: LeadStore

    func add(to group: RouterGroup<LeadRequestContext>) {
        group.get("accounts/{id}", use: show)
    }

    @Sendable func show(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let time = try Query.time(request, "asOf")
        do {
            return jsonResponse(LeadJSON.account(try store.account(id, asOf: time)))
        } catch AccountError.unknown {
            throw Problem(.notFound, "unknown account \(id)")
        }
    }
}
