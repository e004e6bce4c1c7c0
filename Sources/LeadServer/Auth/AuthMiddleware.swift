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
        guard let header = request.headers.first(.authorization) else { return nil }
        // (Every request: the scheme is compared and the spaces trimmed on the UTF-8 bytes,
        // not through Foundation's lowercasing and trimming.)
        func credentials(after scheme: String) -> Substring? {
            let start = Array(header.utf8.prefix(scheme.utf8.count + 1))
            guard start.count == scheme.utf8.count + 1, start.last == UInt8(ascii: " "),
                  zip(start, scheme.utf8).allSatisfy({ $0 | 0x20 == $1 })
            else { return nil }
            return trimmed(header.dropFirst(scheme.count + 1))
        }
        func trimmed(_ text: Substring) -> Substring {
            var text = text
            while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
            while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
            return text
        }
        if let token = credentials(after: "bearer") {
            return String(token)
        }
        if let encoded = credentials(after: "basic"),
           let decoded = Data(base64Encoded: String(encoded)),
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
