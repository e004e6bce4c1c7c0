import Foundation

/// Rules documents the demo and the bench publish.
public enum ExampleRules {
    /// The example rules document of SPEC section 4, verbatim (as in
    /// `Schemas/examples/rules/valid/spec-example.yaml`).
    public static let spec = """
        version: "2026-11-a"
        mql_threshold: 60
        decay: { half_life_days: 30 }
        fit:
          - when: { field: title, matches: "(?i)\\\\b(vp|vice president|director|head|chief|c[eft]o)\\\\b" }
            points: 20
          - when: { field: employees, gte: 200 }
            points: 10
          - when: { field: industry, in: [software, fintech, healthcare] }
            points: 10
          - when: { field: email, matches: "@(gmail|yahoo|hotmail)\\\\." }
            points: -15
        behavior:
          - event: touch.webinar_attended
            points: 15
          - event: touch.demo_requested
            points: 40
          - event: touch.page_view
            where: { url: { contains: "/pricing" } }
            points: 10
            cap: { count: 3, per_days: 30 }
          - event: touch.email_click
            points: 3
          - event: lead.unsubscribed
            points: -50

        """
}

extension ExampleRules {
    /// `spec` with its free-mail rule on `emailDomain` instead of `email`: what to publish
    /// in a store that encrypts personal fields, where rules never see an e-mail address
    /// (the rule then gives the same score before and after the lead is erased).
    public static let withoutPersonalFields = spec
        .replacingOccurrences(of: #"- when: { field: email, matches: "@(gmail|yahoo|hotmail)\\." }"#,
                              with: #"- when: { field: emailDomain, matches: "^(gmail|yahoo|hotmail)\\." }"#)
        .replacingOccurrences(of: #"version: "2026-11-a""#, with: #"version: "2026-11-a-domain""#)
}
