import Hummingbird
import LedgerJSON

/// The small JSON object bodies of the admin routes (merge, erase, backup): read, parsed and
/// checked for members the route does not know, each refusal a 400 naming what is wrong.
enum ObjectBody {
    /// The body's object, or `nil` for an empty (or blank) body. `members`: the names the
    /// route knows; `example`: a body to show in the refusals.
    static func read(_ request: Request, members: [String], example: String) async throws -> JSONObject? {
        let body = try await request.body.collect(upTo: 64 << 10)
        let text = String(buffer: body)
        guard !text.allSatisfy(\.isWhitespace) else { return nil }
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw Problem(.badRequest, "the body is not JSON: \(error); send \(example)")
        }
        guard let object = value.objectValue else { throw Problem(.badRequest, "the body is \(value.typeName), not an object like \(example)") }
        if let unknown = object.keys.first(where: { !members.contains($0) }) {
            let known = members.count == 1 ? "its only member is \(members[0])" : "its members are " + members.joined(separator: " and ")
            throw Problem(.badRequest, "the body has an unknown member \(unknown.debugDescription); \(known)")
        }
        return object
    }
}
