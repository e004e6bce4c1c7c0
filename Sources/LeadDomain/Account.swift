import LedgerJSON

/// Which account a lead belongs to (docs/lead-data.md, "Accounts"). Pure functions, no I/O.
///
/// - An explicit assignment: a `lead.captured` or `lead.enriched` whose data has `accountId`
///   (what a tracking `group` call writes) or an `account` string. The latest one in log order
///   wins; `accountId` wins over `account` within one event.
/// - Else, while the lead never had an explicit one, the domain rule on its merged profile:
///   the lower-cased `emailDomain` (stored beside an encrypted `email`), else the domain of
///   `email`, else the company `domain` — the first of these that is a usable domain and not
///   a free-mail provider's.
public enum AccountRule {
    /// Longer ids are not accounts (the index key holds the account and the lead id).
    public static let maxAccountBytes = 256

    /// Free-mail providers' domains: they never make an account.
    public static let freeMailDomains: Set<String> = [
        "gmail.com", "googlemail.com", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
        "aol.com", "proton.me", "protonmail.com", "pm.me", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "qq.com",
        "163.com", "126.com", "yeah.net", "sina.com", "web.de", "zoho.com", "fastmail.com", "mail.com",
        "tutanota.com", "naver.com", "hanmail.net", "rediffmail.com",
    ]

    /// Providers whose every country domain is free mail (`yahoo.*`, `hotmail.*`…): matched on
    /// the domain's first label.
    public static let freeMailProviders: Set<String> = ["yahoo", "ymail", "hotmail", "outlook", "live", "gmx", "yandex"]

    public static func isFreeMail(_ domain: String) -> Bool {
        if freeMailDomains.contains(domain) { return true }
        guard let dot = domain.firstIndex(of: ".") else { return false }
        return freeMailProviders.contains(String(domain[..<dot]))
    }

    /// The explicit account an event's data assigns, if any.
    public static func explicitAccount(_ data: JSONObject) -> String? {
        accountID(data["accountId"]?.stringValue) ?? accountID(data["account"]?.stringValue)
    }

    /// A usable account id: trimmed, not empty, no NUL (the index separator), not too long.
    public static func accountID(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let trimmed = raw.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.utf8.count <= maxAccountBytes, !trimmed.utf8.contains(0) else { return nil }
        return trimmed
    }

    /// The domain rule's account (see the type's comment), from the three fields' values.
    public static func domainAccount(emailDomain: String?, email: String?, domain: String?) -> String? {
        let fromEmail = emailDomain.flatMap(normalized) ?? email.flatMap(emailsDomain).flatMap(normalized)
        if let fromEmail, !isFreeMail(fromEmail) { return fromEmail }
        if let company = domain.flatMap(normalized), !isFreeMail(company) { return company }
        return nil
    }

    public static func domainAccount(profile: JSONObject) -> String? {
        domainAccount(
            emailDomain: profile["emailDomain"]?.stringValue, email: profile["email"]?.stringValue, domain: profile["domain"]?.stringValue)
    }

    /// Whether the data has a field the domain rule reads.
    public static func touchesDomain(_ data: JSONObject) -> Bool {
        data["emailDomain"] != nil || data["email"] != nil || data["domain"] != nil
    }

    /// A lead's account after a capture or enrichment with `data` (already merged into its
    /// profile).
    public static func update(_ lead: inout LeadState, with data: JSONObject) {
        if let explicit = explicitAccount(data) {
            lead.account = explicit
            lead.accountIsExplicit = true
        } else if !lead.accountIsExplicit && touchesDomain(data) {
            lead.account = domainAccount(profile: lead.profile)
        }
    }

    /// The survivor's account once a duplicate joins it: the survivor's explicit one, else the
    /// duplicate's explicit one, else the domain rule on the merged profile.
    public static func merge(_ duplicate: LeadState, into survivor: inout LeadState) {
        if survivor.accountIsExplicit { return }
        if duplicate.accountIsExplicit {
            survivor.account = duplicate.account
            survivor.accountIsExplicit = true
        } else {
            survivor.account = domainAccount(profile: survivor.profile)
        }
    }

    /// The part after the last `@` of an e-mail address.
    static func emailsDomain(_ email: String) -> String? {
        guard let at = email.lastIndex(of: "@") else { return nil }
        return String(email[email.index(after: at)...])
    }

    /// A domain lower-cased, without surrounding spaces, a trailing dot or a leading `www.`;
    /// `nil` unless it looks like a domain (a dot, no spaces, no `@`).
    static func normalized(_ raw: String) -> String? {
        var domain = raw.trimmingSpaces.lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        if domain.hasPrefix("www.") { domain.removeFirst(4) }
        guard domain.contains("."), !domain.hasPrefix("."), domain.utf8.count <= maxAccountBytes,
              !domain.contains(where: { $0 == " " || $0 == "@" || $0 == "\0" || $0 == "/" })
        else { return nil }
        return domain
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension EventView {
    private static let accountFields = [
        Field("accountId"), Field("account"), Field("emailDomain"), Field("email"), Field("domain"),
    ]

    /// A capture's account read in place (what `AccountRule.update` gives a new lead whose
    /// profile is this data): `nil` when the data names none. Allocates only for data that
    /// has one of the fields.
    public var capturedAccount: (account: String, explicit: Bool)? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 5) { offsets in
            locate(Self.accountFields, into: offsets)
            guard offsets.contains(where: { $0 >= 0 }) else { return nil }
            func string(_ index: Int) -> String? {
                guard case .string(let bytes) = stored(at: offsets[index]) else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
            if let explicit = AccountRule.accountID(string(0)) ?? AccountRule.accountID(string(1)) {
                return (account: explicit, explicit: true)
            }
            return AccountRule.domainAccount(emailDomain: string(2), email: string(3), domain: string(4)).map { (account: $0, explicit: false) }
        }
    }
}
