import LeadDomain
import LedgerJSON

/// The JSON shapes of SPEC section 6 that scripts and HTTP clients rely on: one place, used by
/// the CLI's `--format json` and by the server's API.
public enum LeadJSON {
    /// `lead show`: `{"lead","stage","owner","score","profile","stages":[...]}` and more.
    /// With `erasure`, `"erased": {"at","reason"}`: the lead's personal fields were erased
    /// (they read as `"[erased]"`).
    public static func lead(_ state: LeadState, score: Double?, erasure: LeadKeyStore.Erasure? = nil) -> JSONValue {
        let value: JSONValue = [
            "lead": .string(state.lead), "stage": .string(state.stage.rawValue), "owner": .nullable(state.owner),
            "score": score.map(JSONValue.number) ?? .null, "rulesVersion": .nullable(state.rulesVersion),
            "profile": .object(state.profile),
            "stages": .array(state.stages.map { change in
                ["stage": .string(change.stage.rawValue), "at": .string(change.at.rfc3339), "type": .string(change.type.rawValue),
                 "actor": .nullable(change.actor), "position": .integer(change.position)]
            }),
            "capturedAt": .string(state.capturedAt.rfc3339), "lastActivityAt": .string(state.lastActivityAt.rfc3339),
            "touches": .integer(state.touches), "events": .integer(state.events), "opportunity": .nullable(state.opportunity),
            "account": .nullable(state.account),
        ]
        guard let erasure, case .object(var object) = value else { return value }
        object["erased"] = ["at": .string(erasure.at.rfc3339), "reason": .string(erasure.reason)]
        return .object(object)
    }

    /// A lead read by a merged-away id: the lead it ended in, with `merged` saying which id
    /// was asked for and the merges that led there.
    public static func lead(
        _ state: LeadState, score: Double?, resolvedFrom id: String, chain: [(lead: String, into: String)], erasure: LeadKeyStore.Erasure? = nil
    ) -> JSONValue {
        guard !chain.isEmpty, case .object(var object) = lead(state, score: score, erasure: erasure) else {
            return lead(state, score: score, erasure: erasure)
        }
        object["merged"] = [
            "from": .string(id), "into": .string(state.lead),
            "steps": .array(chain.map { ["lead": .string($0.lead), "into": .string($0.into)] }),
        ]
        return .object(object)
    }

    /// A row of `lead history` and `audit` (`{"rows":[...]}`).
    public static func event(_ row: LoggedEvent) -> JSONValue {
        [
            "position": .integer(row.position), "at": .string(row.event.at.rfc3339),
            "recordedAt": .string(row.recordedAt.rfc3339), "type": .string(row.event.type.rawValue),
            "lead": .nullable(row.event.lead), "actor": .nullable(row.event.actor),
            "id": .string(row.event.id), "data": .object(row.event.data),
        ]
    }

    /// `score explain`.
    /// `resolvedFrom`: the merged-away id asked for, when `lead` is the lead it ended in.
    public static func score(lead: String, _ breakdown: ScoreBreakdown, rulesVersion: String, asOf: Timestamp, resolvedFrom: String? = nil) -> JSONValue {
        var object: JSONObject = [
            "lead": .string(lead), "score": .number(breakdown.score), "fit": .number(breakdown.fit),
            "engagement": .number(breakdown.engagement), "rulesVersion": .string(rulesVersion),
            "asOf": .string(asOf.rfc3339),
            "hits": .array(breakdown.hits.map { hit in
                ["rule": .string(hit.rule), "points": .number(hit.points), "at": .nullable(hit.at?.rfc3339),
                 "position": hit.position.map { .integer($0) } ?? .null]
            }),
        ]
        if let resolvedFrom, resolvedFrom != lead { object["merged"] = ["from": .string(resolvedFrom), "into": .string(lead)] }
        return .object(object)
    }

    /// `rescore`.
    public static func rescore(_ report: RescoreReport) -> JSONValue {
        [
            "rulesVersion": .string(report.rulesVersion), "baseVersion": .nullable(report.baseVersion),
            "newlyQualified": .array(report.newlyQualified.map(JSONValue.string)),
            "noLongerQualified": .array(report.noLongerQualified.map(JSONValue.string)),
            "moved": .array(report.moved.map { ["lead": .string($0.lead), "from": .string($0.from.rfc3339), "to": .string($0.to.rfc3339)] }),
            "leads": .integer(report.leads), "qualifiedNow": .integer(report.qualifiedNow), "qualifiedProposed": .integer(report.qualifiedProposed),
            "asOf": .string(report.asOf.rfc3339),
            "distribution": .array(report.distribution.map { ["bucket": .string($0.label), "current": $0.current.map { .integer($0) } ?? .null, "proposed": .integer($0.proposed)] }),
        ]
    }
}
