import EventLog
import LeadDomain
import LeadEngine
import LedgerJSON
import Reports
import Testing
import TestSupport

/// Accounts on real stores: which account a lead belongs to (explicit assignments, the domain
/// rule, free mail), the accounts index through reassignments and merges, `account show`'s
/// figures, reports by account, the account funnel, account rules, and rebuilds.
@Suite("Accounts")
struct AccountTests {
    typealias E = Events

    static func account(_ store: LeadStore, _ lead: String) throws -> String? {
        try store.lead(lead)?.account
    }

    static func expectAppended(_ outcomes: [AppendOutcome], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcomes.allSatisfy { $0.position != nil }, "\(outcomes)", sourceLocation: sourceLocation)
    }

    @Test func explicitAssignmentsWinAndTheLatestOneCounts() throws {
        let test = try TestStore("accounts")
        Self.expectAppended(try test.append([
            E.captured("a", extra: ["email": "ada@Acme.COM"]),
            E.captured("b", extra: ["email": "bo@acme.com", "account": "acct-9"]),
            E.captured("c", extra: ["email": "cy@gmail.com", "domain": "www.Beta.io"]),
            E.captured("d", extra: ["email": "di@yahoo.co.uk", "domain": "hotmail.fr"]),
            E.captured("e", extra: ["email": "(encrypted)", "emailDomain": "Gamma.example", "domain": "delta.example"]),
            E.captured("f", extra: ["email": "fe@epsilon.example", "accountId": "acct-1", "account": "acct-2"]),
        ]))
        #expect(try Self.account(test.store, "a") == "acme.com")
        #expect(try test.store.lead("a")?.accountIsExplicit == false)
        #expect(try Self.account(test.store, "b") == "acct-9")
        #expect(try test.store.lead("b")?.accountIsExplicit == true)
        // Free mail never makes an account: the company domain does, when there is one.
        #expect(try Self.account(test.store, "c") == "beta.io")
        #expect(try Self.account(test.store, "d") == nil)
        // `emailDomain` (beside an encrypted e-mail) comes before the company domain.
        #expect(try Self.account(test.store, "e") == "gamma.example")
        // Within one event, accountId (what a group call writes) wins over account.
        #expect(try Self.account(test.store, "f") == "acct-1")

        Self.expectAppended(try test.append([
            // A group call's enrichment: an explicit assignment.
            E.event(.leadEnriched, "a", id: "a-group", at: "2026-03-02T10:00:00Z", ["accountId": "acct-1", "account": ["name": "Acme", "employees": 900]]),
            // A new e-mail does not move a lead explicitly assigned.
            E.event(.leadEnriched, "a", id: "a-email", at: "2026-03-03T10:00:00Z", ["email": "ada@other.example"]),
            // A lead never assigned follows its domain.
            E.event(.leadEnriched, "c", id: "c-email", at: "2026-03-03T10:00:00Z", ["email": "cy@zeta.example"]),
        ]))
        #expect(try Self.account(test.store, "a") == "acct-1")
        #expect(try Self.account(test.store, "c") == "zeta.example")
        // The latest explicit assignment wins (log order).
        Self.expectAppended(try test.append([E.event(.leadEnriched, "a", id: "a-move", at: "2026-03-01T12:00:00Z", ["account": "acct-2"])]))
        #expect(try Self.account(test.store, "a") == "acct-2")

        #expect(try test.store.leads(ofAccount: "acct-1") == ["f"])
        #expect(try test.store.leads(ofAccount: "acct-2") == ["a"])
        #expect(try test.store.leads(ofAccount: "acme.com") == [])
        #expect(try test.store.leads(ofAccount: "zeta.example") == ["c"])
        #expect(try test.store.leads(ofAccount: "beta.io") == [])
        try expectRebuildGivesLive(test.store)
        #expect(try test.store.leads(ofAccount: "acct-2") == ["a"])
    }

    @Test func freeMailDomainsAreListed() {
        for domain in ["gmail.com", "yahoo.com", "yahoo.co.uk", "hotmail.fr", "outlook.com", "icloud.com", "aol.com", "proton.me", "gmx.de", "mail.ru", "yandex.ru", "qq.com", "163.com"] {
            #expect(AccountRule.isFreeMail(domain), "\(domain)")
        }
        for domain in ["acme.com", "gmail-partners.example", "mailchimp.com"] {
            #expect(!AccountRule.isFreeMail(domain), "\(domain)")
        }
        #expect(AccountRule.domainAccount(emailDomain: nil, email: "x@GMX.net", domain: nil) == nil)
        #expect(AccountRule.domainAccount(emailDomain: nil, email: "not an address", domain: "acme") == nil)
        #expect(AccountRule.domainAccount(emailDomain: "Acme.com.", email: "x@other.example", domain: nil) == "acme.com")
    }

    /// A capture read in place (its fast pass and the general reader) gives the account that
    /// applying the decoded capture gives.
    @Test func aCaptureReadInPlaceAgreesWithTheDecodedOne() throws {
        let long = String(repeating: "x", count: 200) + ".example"
        let cases: [JSONObject] = [
            ["email": "ada@Acme.com", "employees": 12, "annualRevenue": 1.5e6, "channel": "web"],
            ["email": "ada@gmail.com", "domain": "WWW.Beta.io."],
            ["email": "ada@gmail.com", "domain": "yahoo.de"],
            ["email": "no-at-sign", "domain": "nodot"],
            ["email": "ada@acme.com", "account": " acct-1 "],
            ["accountId": "acct-2", "account": "acct-3"],
            ["account": ["name": "traits only"], "email": "ada@gamma.example"],
            ["emailDomain": "Delta.example", "email": "(encrypted)"],
            ["email": .string("ada@\(long)"), "note": .null, "recycle": true],
            ["email": .null, "domain": "epsilon.example"],
            ["firstName": "Ada"],
        ]
        for (index, extra) in cases.enumerated() {
            let event = E.captured("L-\(index)", extra: extra)
            var decoded: LeadState?
            Lifecycle.apply(event, position: 1, to: &decoded)
            let inPlace = try EventCodec.encode(event).withUnsafeBytes { try EventView($0).capturedAccount }
            #expect(inPlace?.account == decoded?.account, "\(extra)")
            #expect((inPlace?.explicit ?? false) == decoded?.accountIsExplicit, "\(extra)")
        }
    }

    @Test func aMergedAwayDuplicateIsNotALeadOfTheAccount() throws {
        let test = try TestStore("accounts-merge")
        Self.expectAppended(try test.append([
            E.captured("s", extra: ["email": "sam@acme.com"]),
            E.captured("d", at: "2026-02-01T10:00:00Z", extra: ["email": "sam.b@acme.com"]),
            E.captured("x", extra: ["email": "xi@gmail.com"]),
            E.captured("y", extra: ["email": "yo@acme.com", "account": "acct-7"]),
        ]))
        #expect(try test.store.leads(ofAccount: "acme.com") == ["d", "s"])
        Self.expectAppended([try test.store.merge("d", into: "s", actor: "ops", at: E.at("2026-03-05T10:00:00Z"))])
        #expect(try test.store.leads(ofAccount: "acme.com") == ["s"])
        #expect(try test.store.account("acme.com").leads.map(\.lead) == ["s"])
        // A survivor without an account takes the duplicate's explicit one.
        Self.expectAppended([try test.store.merge("y", into: "x", actor: "ops", at: E.at("2026-03-06T10:00:00Z"))])
        #expect(try Self.account(test.store, "x") == "acct-7")
        #expect(try test.store.leads(ofAccount: "acct-7") == ["x"])
        // Events for the duplicate land on the survivor.
        Self.expectAppended(try test.append([E.event(.leadEnriched, "d", id: "d-move", at: "2026-03-07T10:00:00Z", ["account": "acct-8"])]))
        #expect(try test.store.leads(ofAccount: "acct-8") == ["s"])
        #expect(try test.store.leads(ofAccount: "acme.com") == [])
        try expectRebuildGivesLive(test.store)
    }

    static let rules: JSONValue = [
        "version": "acct-1", "mql_threshold": 1000, "account_score_cap": 25,
        "fit": [["when": ["field": "employees", "gte": 200], "points": 10]],
        "behavior": [["event": "touch.webinar_attended", "points": 20]],
        "account": [
            ["name": "committee", "when": ["engagedLeads": ["gte": 2, "withinDays": 30]], "points": 15],
            ["when": ["leads": ["gte": 3]], "points": 5],
            ["name": "big", "when": ["leads": ["gte": 4]], "points": 100],
        ],
    ]

    /// Account acme.com: a1 and a2 at webinars in March, a3 captured by a form in March and
    /// touched in October, a customer (won 6,000); a2 with an open opportunity (1,000); b1 at
    /// beta.io; n1 without an account.
    static func acme(_ test: TestStore) throws {
        #expect(try test.store.publishRules(ScoringRules(document: rules), actor: "ops", at: E.at("2026-01-01T00:00:00Z")).position != nil)
        Self.expectAppended(try test.append([
            E.captured("a1", extra: ["email": "a1@acme.com", "employees": 500, "industry": "software"]),
            E.captured("a2", extra: ["email": "a2@ACME.com"]),
            E.captured("a3", extra: ["email": "a3@gmail.com", "domain": "www.acme.com", "channel": "web"]),
            E.captured("b1", extra: ["email": "b1@beta.io", "channel": "web"]),
            E.captured("n1", extra: ["email": "n1@gmail.com"]),
            E.touch("a1", id: "a1-w", .touchWebinarAttended, at: "2026-03-10T10:00:00Z", channel: "webinar"),
            E.touch("a2", id: "a2-w", .touchWebinarAttended, at: "2026-03-12T10:00:00Z", channel: "webinar"),
            E.touch("a3", id: "a3-old", at: "2025-10-01T10:00:00Z", channel: "email"),
        ]))
        for lead in ["a2", "a3", "b1"] {
            Self.expectAppended(try test.append([
                E.event(.leadQualified, lead, id: "\(lead)-q", at: "2026-03-13T10:00:00Z", ["by": "manual"]),
                E.event(.leadHandedOff, lead, id: "\(lead)-h", at: "2026-03-13T11:00:00Z", ["to": "sam"]),
                E.event(.salesAccepted, lead, id: "\(lead)-a", at: "2026-03-14T10:00:00Z"),
            ]))
        }
        Self.expectAppended(try test.append([
            E.event(.opportunityOpened, "a2", id: "a2-o", at: "2026-03-15T10:00:00Z", ["opportunity": "o-2", "amount": 1000]),
            E.event(.opportunityOpened, "a3", id: "a3-o", at: "2026-03-15T10:00:00Z", ["opportunity": "o-3", "amount": 5000]),
            E.event(.dealClosed, "a3", id: "a3-won", at: "2026-03-16T10:00:00Z", ["opportunity": "o-3", "outcome": "won", "amount": 6000]),
            E.event(.salesRejected, "b1", id: "b1-r", at: "2026-03-15T10:00:00Z", ["reason": "not_fit"]),
        ]))
    }

    @Test func anAccountSumsUpItsLeads() throws {
        let test = try TestStore("account-show")
        try Self.acme(test)
        let summary = try test.store.account("acme.com", asOf: E.at("2026-03-20T00:00:00Z"))
        #expect(summary.leads.map(\.lead) == ["a1", "a2", "a3"])
        #expect(summary.leads.map(\.stage) == [.lead, .opportunity, .customer])
        #expect(summary.mostAdvancedStage == .customer)
        // a3's capture carries a channel: a touchpoint too.
        #expect(summary.leads.map(\.engaged) == [true, true, true])
        #expect(summary.leads.map { $0.lastTouchAt?.rfc3339 } == ["2026-03-10T10:00:00Z", "2026-03-12T10:00:00Z", "2026-03-01T10:00:00Z"])
        #expect(summary.engagedLeads == 3)
        #expect(summary.opportunities == AccountOpportunities(open: 1, openAmount: 1000, won: 1, wonAmount: 6000))
        let score = try #require(summary.score)
        // a1: employees ≥ 200 (10) + a webinar (20); a2: a webinar (20); a3: nothing.
        #expect(summary.leads.map(\.score) == [30, 20, 0])
        #expect(score.leadScores == 50)
        #expect(score.cap == 25)
        #expect(score.fit == 10)  // employees 500, from a1's company fields
        #expect(score.hits.map(\.rule) == ["committee", "account[1]"])
        #expect(score.rules == 20)
        #expect(score.total == 55)
        #expect(summary.firmographics["employees"] == 500)
        #expect(summary.firmographics["domain"] == "www.acme.com")
        // 90 days up to mid-January: a3's October touch is out, and the March ones are later.
        let january = try test.store.account("acme.com", asOf: E.at("2026-01-15T00:00:00Z"))
        #expect(january.engagedLeads == 0)
        #expect(january.score?.hits.map(\.rule) == ["account[1]"])
        let december = try test.store.account("acme.com", asOf: E.at("2025-12-01T00:00:00Z"))
        #expect(december.leads.map(\.engaged) == [false, false, true])
        #expect(throws: AccountError.unknown("nobody.example")) { try test.store.account("nobody.example") }
        #expect(LeadJSON.account(summary)["score"]?["total"] == 55)
    }

    @Test func reportsGroupByAccount() throws {
        let test = try TestStore("account-reports")
        try Self.acme(test)
        let walk: AccountReports.Walk = { body in try test.store.forEachJourneyWithAccount { _, journey, account in try body(journey, account) } }
        let funnel = try AccountReports.funnel(range: TimeRange(), walk: walk)
        #expect(funnel.by == "account")
        let leads = Dictionary(uniqueKeysWithValues: funnel.rows.map { ($0.key, funnel.value($0, "leads")) })
        #expect(leads == ["acme.com": 3, "beta.io": 1, "(none)": 1])
        let customers = funnel.rows.first { $0.key == "acme.com" }.map { funnel.value($0, "customers") }
        #expect(customers == 1)

        let quality = try AccountReports.quality(range: TimeRange(), walk: walk)
        let rejected = quality.rows.first { $0.key == "beta.io" }.map { quality.value($0, "not_fit") }
        #expect(rejected == 1)

        let names = try test.store.dimensionNames()
        let attribution = try AccountReports.attribution(AttributionSettings(model: .linear), walk: walk) { names[$0] ?? "#\($0)" }
        #expect(attribution.by == "account")
        let acme = try #require(attribution.rows.first { $0.key == "acme.com" })
        #expect(attribution.value(acme, "revenue") == 6000)
        #expect(attribution.value(acme, "conversions") == 1)
        #expect(!attribution.rows.contains { $0.key == "beta.io" && attribution.value($0, "revenue") != 0 })

        let accounts = try AccountReports.accountFunnel(range: TimeRange()) { body in
            try test.store.forEachAccountJourneys { _, journeys in try body(journeys) }
        }
        #expect(accounts.name == "account-funnel")
        // Two accounts (acme.com, beta.io); both reached SAL, one became a customer.
        #expect(accounts.totals["leads"] == 2)
        #expect(accounts.totals["sals"] == 2)
        #expect(accounts.totals["opportunities"] == 1)
        #expect(accounts.totals["customers"] == 1)
    }

    @Test func aRebuildGivesTheSameAccounts() throws {
        let test = try TestStore("account-rebuild")
        try Self.acme(test)
        Self.expectAppended([try test.store.merge("a2", into: "a1", actor: "ops", at: E.at("2026-03-17T10:00:00Z"))])
        let asOf = E.at("2026-03-20T00:00:00Z")
        let before = try test.store.account("acme.com", asOf: asOf)
        #expect(before.leads.map(\.lead) == ["a1", "a3"])
        try expectRebuildGivesLive(test.store)
        let after = try test.store.account("acme.com", asOf: asOf)
        #expect(after.leads == before.leads)
        #expect(after.score == before.score)
        #expect(after.opportunities == before.opportunities)
        #expect(try test.store.verifyProjections(deep: true, scratch: test.directory.file("scratch")).isEmpty)
    }

    @Test func theStateCodecKeepsVersionOneForLeadsWithoutAnAccount() throws {
        var state = LeadState(lead: "L", capturedAt: E.at("2026-03-01T00:00:00Z"))
        let plain = LeadStateCodec.encode(state)
        #expect(plain.first == 1)
        state.account = "acme.com"
        let withAccount = LeadStateCodec.encode(state)
        #expect(withAccount.first == 2)
        #expect(try withAccount.withUnsafeBytes { try LeadStateCodec.decode($0, lead: "L") } == state)
        state.mergedInto = "M"
        state.accountIsExplicit = true
        let merged = LeadStateCodec.encode(state)
        #expect(try merged.withUnsafeBytes { try LeadStateCodec.decode($0, lead: "L") } == state)
        state.account = nil
        state.accountIsExplicit = false
        #expect(try LeadStateCodec.encode(state).withUnsafeBytes { try LeadStateCodec.decode($0, lead: "L") } == state)
    }

    /// What a rebuild lists in the index (`LeadStateCodec.listedAccount`, read in place) is
    /// the account of the decoded state, for a lead that is not merged away.
    @Test func theAccountListedIsReadInPlace() throws {
        var state = LeadState(lead: "L", capturedAt: E.at("2026-03-01T00:00:00Z"))
        state.owner = "ops"
        state.opportunity = "opp-1"
        state.profile = ["email": "ada@acme.com", "employees": 900, "tags": ["a", "b"], "account": ["name": "Acme"]]
        state.stages = [StageChange(stage: .mql, at: E.at("2026-03-02T00:00:00Z"), type: .leadQualified, actor: "scoring", position: 7)]
        state.rulesVersion = "v1"
        state.matches = [ScoreMatch(rule: 300, at: E.at("2026-03-02T00:00:00Z"), position: 9)]
        func listed(_ state: LeadState) throws -> String? {
            try LeadStateCodec.encode(state).withUnsafeBytes { try LeadStateCodec.listedAccount($0).map { String(decoding: $0, as: UTF8.self) } }
        }
        #expect(try listed(state) == nil)
        state.account = "a-rather-long-account.example"
        #expect(try listed(state) == "a-rather-long-account.example")
        state.accountIsExplicit = true
        state.stages.append(StageChange(stage: .sal, at: E.at("2026-03-03T00:00:00Z"), type: .salesAccepted, actor: nil, position: 11))
        #expect(try listed(state) == "a-rather-long-account.example")
        state.mergedInto = "M"
        #expect(try listed(state) == nil)
        #expect(throws: CodecError.self) { try [UInt8]([3, 0]).withUnsafeBytes { try LeadStateCodec.listedAccount($0) } }
    }
}
