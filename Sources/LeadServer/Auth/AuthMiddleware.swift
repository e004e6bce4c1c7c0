import Foundation
import Hummingbird

/// Authenticates `Authorization: Bearer <key>` against the store's keys and checks the key's
/// role: no key or an unknown one → 401, a key whose role does not allow the route → 403.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LeadRequestContext
    let keys: KeyStore
    let needed: Role
    /// For pages a person opens: the key may also come as the password of HTTP Basic
    /// credentials (which a browser asks for), whatever the user name.
    var browser = false

    /// The key a request carries: `Bearer <key>`, or the password of `Basic` credentials.
    static func secret(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let lowered = header.lowercased()
        if lowered.hasPrefix("bearer ") {
            return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        if lowered.hasPrefix("basic "),
           let decoded = Data(base64Encoded: String(header.dropFirst("basic ".count)).trimmingCharacters(in: .whitespaces)),
           let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") {
            return String(text[text.index(after: colon)...])
        }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let secret = Self.secret(request) else {
            var problem = Problem(.unauthorized, "this route needs an API key: send Authorization: Bearer <key> (leadledger keys create makes one)")
            // (A browser asks for Basic credentials: the key as the password opens the dashboard.)
            problem.headers[.wwwAuthenticate] = browser ? "Basic realm=\"LeadLedger\", charset=\"UTF-8\"" : "Bearer"
            throw problem
        }
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
