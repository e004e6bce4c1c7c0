import EventLog
import Hummingbird
import LeadDomain
import LeadEngine
import LedgerJSON

/// `POST /v1/leads/{id}/merge` (admin), body `{"into": "SURVIVOR"}` (and an optional
/// `reason`): merges lead `id` into the survivor (`LeadStore.merge`), recorded with the key's
/// name as the actor. 201 with the position; 200 when the same merge was made already; 404
/// for an unknown lead; 409 when the merge is refused (merged away, a cycle, two customers
/// with different won opportunities), with the reason.
struct MergeController {
    let store: LeadStore
    let gate: WriteGate

    func add(to admin: RouterGroup<LeadRequestContext>) {
        admin.post("leads/{id}/merge", use: merge)
    }

    @Sendable func merge(_ request: Request, context: LeadRequestContext) async throws -> Response {
        let duplicate = try context.parameters.require("id")
        let (survivor, reason) = try await Self.body(request)
        if survivor == duplicate { throw Problem(.badRequest, "into: cannot merge lead \(duplicate) into itself") }
        let actor = "api:" + (context.key?.name ?? "?")
        let event: Envelope
        do {
            event = try LeadStore.mergeEvent(duplicate: duplicate, into: survivor, actor: actor, at: .now, reason: reason)
        } catch {
            throw Problem(.badRequest, "cannot merge: \(error)")
        }
        let store = self.store
        let outcome = try await gate.withAppend { try await offThePool { try store.append([event])[0] } }
        var answer: JSONObject = ["duplicate": .string(duplicate), "into": .string(survivor), "actor": .string(actor)]
        switch outcome {
        case .appended(let position):
            answer["position"] = .integer(position)
            return jsonResponse(.object(answer), status: .created)
        case .duplicate(let position):
            answer["position"] = .integer(position)
            answer["alreadyMerged"] = true
            return jsonResponse(.object(answer))
        case .rejected(let reason):
            throw Problem(reason.hasSuffix("is unknown") ? .notFound : .conflict, reason)
        case .conflict:
            throw Problem(.conflict, "the merge was not stored (conflict)")
        }
    }

    /// `into` (required) and `reason` from the body, with a 400 naming what is wrong.
    static func body(_ request: Request) async throws -> (into: String, reason: String?) {
        let object = try await ObjectBody.read(request, members: ["into", "reason"], example: #"{"into": "SURVIVOR"}"#) ?? [:]
        guard let member = object["into"] else { throw Problem(.badRequest, "into is missing: the id of the lead that survives") }
        guard let into = member.stringValue, !into.isEmpty else { throw Problem(.badRequest, "into is \(member.typeName), not a lead id") }
        var reason: String?
        if let member = object["reason"] {
            guard let text = member.stringValue else { throw Problem(.badRequest, "reason is \(member.typeName), not a string") }
            reason = text
        }
        return (into, reason)
    }
}
