import Foundation
import Hummingbird

/// Authenticates `Authorization: Bearer <key>` against the store's keys and checks the key's
/// role: no key or an unknown one → 401, a key whose role does not allow the route → 403.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LeadRequestContext
    let keys: KeyStore
    let needed: Role

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            var problem = Problem(.unauthorized, "this route needs an API key: send Authorization: Bearer <key> (leadledger keys create makes one)")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        let secret = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let key = keys.key(forSecret: secret) else {
            var problem = Problem(.unauthorized, "the API key is not known (revoked, or mistyped)")
            problem.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            throw problem
        }
        guard key.role.allows(needed) else {
            throw Problem(.forbidden, "the key \(key.name) has the role \(key.role.rawValue), and this route needs \(needed.rawValue)")
        }
        var context = context
        context.key = key
        return try await next(request, context)
    }
}
