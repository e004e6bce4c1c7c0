import LeadDomain
import LedgerJSON

extension LeadJSON {
    /// `account show` and `GET /v1/accounts/{id}` (`Account` in Schemas/openapi.yaml).
    public static func account(_ summary: AccountSummary) -> JSONValue {
        let score: JSONValue = summary.score.map { score in
            [
                "total": .number(score.total), "leadScores": .number(score.leadScores), "cap": .number(score.cap),
                "fit": .number(score.fit), "rules": .number(score.rules),
                "hits": .array(score.hits.map { ["rule": .string($0.rule), "points": .number($0.points)] }),
            ]
        } ?? .null
        let opportunities = summary.opportunities
        return [
            "account": .string(summary.account),
            "mostAdvancedStage": .string(summary.mostAdvancedStage.rawValue),
            "engagedLeads": .integer(summary.engagedLeads),
            "engagementDays": .integer(AccountSummary.engagementDays),
            "asOf": .string(summary.asOf.rfc3339),
            "score": score,
            "opportunities": [
                "open": .integer(opportunities.open), "openAmount": .number(opportunities.openAmount),
                "won": .integer(opportunities.won), "wonAmount": .number(opportunities.wonAmount),
            ],
            "firmographics": .object(summary.firmographics),
            "leads": .array(summary.leads.map { lead in
                [
                    "lead": .string(lead.lead), "stage": .string(lead.stage.rawValue),
                    "score": lead.score.map(JSONValue.number) ?? .null,
                    "lastTouchAt": .nullable(lead.lastTouchAt?.rfc3339), "engaged": .bool(lead.engaged),
                    "assignedBy": .string(lead.explicit ? "event" : "domain"),
                ]
            }),
        ]
    }
}
