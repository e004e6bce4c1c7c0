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

    /// `freeMailProviders` as bytes, for comparing a domain's first label without a `String`.
    private static let providerBytes = freeMailProviders.map { Array($0.utf8) }

    /// `freeMailDomains` as bytes, by length: a capture's domain is compared with the few of
    /// its length, without hashing a `String`. (Byte equality is `String` equality here: the
    /// domains are lower-case ASCII, which no other sequence is canonically equivalent to.)
    private static let freeMailDomainBytes: [[[UInt8]]] = {
        var byLength = [[[UInt8]]](repeating: [], count: (freeMailDomains.map(\.utf8.count).max() ?? 0) + 1)
        for domain in freeMailDomains { byLength[domain.utf8.count].append(Array(domain.utf8)) }
        return byLength
    }()

    public static func isFreeMail(_ domain: String) -> Bool {
        var copy = domain
        return copy.withUTF8 { isFreeMail(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// `isFreeMail` of a domain's UTF-8 bytes (normalized: lower case).
    static func isFreeMail(bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes.count < freeMailDomainBytes.count {
            for known in freeMailDomainBytes[bytes.count] where known.withUnsafeBytes({ equal($0, bytes) }) { return true }
        }
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")) else { return false }
        let label = UnsafeRawBufferPointer(rebasing: bytes[..<dot])
        for provider in providerBytes where provider.count == label.count && provider.withUnsafeBytes({ equal($0, label) }) { return true }
        return false
    }

    /// Two byte strings of the same length are equal.
    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        // (Index loops: a slice's iterator was not specialized here.)
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }

    /// The explicit account an event's data assigns, if any.
    public static func explicitAccount(_ data: JSONObject) -> String? {
        accountID(data["accountId"]?.stringValue) ?? accountID(data["account"]?.stringValue)
    }

    /// A usable account id: trimmed, not empty, no NUL (the index separator), not too long.
    public static func accountID(_ raw: String?) -> String? {
        withBytes(raw) { $0.flatMap(accountID(bytes:)) }
    }

    /// `accountID(_:)` of a string's UTF-8 bytes.
    static func accountID(bytes: UnsafeRawBufferPointer) -> String? {
        let (start, end) = trimmed(bytes)
        guard end > start, end - start <= maxAccountBytes else { return nil }
        for index in start..<end where bytes[index] == 0 { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// The domain rule's account (see the type's comment), from the three fields' values.
    public static func domainAccount(emailDomain: String?, email: String?, domain: String?) -> String? {
        withBytes(emailDomain) { emailDomain in
            withBytes(email) { email in
                withBytes(domain) { domain in domainAccount(emailDomain: emailDomain, email: email, domain: domain) }
            }
        }
    }

    /// `domainAccount` on the fields' UTF-8 bytes: what captures read in place use, so that
    /// a capture costs no intermediate strings (only the account's own): each domain is
    /// normalized into a buffer on the stack and judged there.
    static func domainAccount(emailDomain: UnsafeRawBufferPointer?, email: UnsafeRawBufferPointer?, domain: UnsafeRawBufferPointer?) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxAccountBytes) { buffer in
            let fromEmail = emailDomain.flatMap { normalize($0, into: buffer) } ?? email.flatMap(emailsDomain).flatMap { normalize($0, into: buffer) }
            if let fromEmail, !isFreeMail(bytes: fromEmail) { return String(decoding: fromEmail, as: UTF8.self) }
            if let company = domain.flatMap({ normalize($0, into: buffer) }), !isFreeMail(bytes: company) {
                return String(decoding: company, as: UTF8.self)
            }
            return nil
        }
    }

    private static func withBytes<R>(_ text: String?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard var text else { return body(nil) }
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
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
    static func emailsDomain(_ email: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let at = email.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        return UnsafeRawBufferPointer(rebasing: email[(at + 1)...])
    }

    /// A domain with its ASCII letters lower-cased, without surrounding white space, a
    /// trailing dot or a leading `www.`, written into `buffer` (`maxAccountBytes` long); `nil`
    /// unless it looks like a domain (a dot, not first; no spaces, control characters, `@` or
    /// `/`).
    static func normalize(_ raw: UnsafeRawBufferPointer, into buffer: UnsafeMutableBufferPointer<UInt8>) -> UnsafeRawBufferPointer? {
        var (start, end) = trimmed(raw)
        if end > start, raw[end - 1] == UInt8(ascii: ".") { end -= 1 }
        let w = UInt8(ascii: "w")
        if end - start > 4, raw[start + 3] == UInt8(ascii: "."), raw[start] | 0x20 == w, raw[start + 1] | 0x20 == w, raw[start + 2] | 0x20 == w {
            start += 4
        }
        let count = end - start
        guard count > 0, count <= maxAccountBytes, raw[start] != UInt8(ascii: ".") else { return nil }
        var dots = 0
        // (Index loops: a slice's iterator was not specialized here.)
        for index in start..<end {
            let byte = raw[index]
            if byte == UInt8(ascii: ".") { dots += 1 }
            if byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "/") { return nil }
        }
        guard dots > 0 else { return nil }
        for index in 0..<count {
            let byte = raw[start + index]
            buffer[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
        }
        return UnsafeRawBufferPointer(start: buffer.baseAddress, count: count)
    }

    /// The bounds of `bytes` without leading and trailing spaces, tabs and line breaks.
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> (start: Int, end: Int) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var (start, end) = (0, bytes.count)
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return (start, end)
    }
}

extension EventView {
    private static let accountFields = [
        Field("accountId"), Field("account"), Field("emailDomain"), Field("email"), Field("domain"),
    ]

    private static let emailCode = EventCodec.knownKeyCode("email")
    private static let domainCode = EventCodec.knownKeyCode("domain")

    /// A capture's account read in place (what `AccountRule.update` gives a new lead whose
    /// profile is this data): `nil` when the data names none. Allocates only for data that
    /// has one of the fields.
    ///
    /// One pass with plain loads over the usual capture (every member name a one-byte code,
    /// every value a short string, a number, a boolean or null); anything else, such as a
    /// spelled-out name — `accountId`, `account` and `emailDomain` have no code — goes to
    /// the general reader (`locatedAccount`).
    public var capturedAccount: (account: String, explicit: Bool)? {
        let end = payload.count
        guard let base = payload.baseAddress, dataOffset + 1 < end else { return locatedAccount }
        func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }
        var remaining = Int(byte(dataOffset + 1))
        guard remaining < 0x80 else { return locatedAccount }
        var index = dataOffset + 2
        var email: UnsafeRawBufferPointer?
        var domain: UnsafeRawBufferPointer?
        while remaining > 0 {
            guard index + 2 <= end else { return locatedAccount }
            let keyByte = byte(index)
            guard keyByte >= 0x80 else { return locatedAccount }
            let value = index + 2
            switch byte(index + 1) {
            case EventCodec.Tag.string:
                guard value < end else { return locatedAccount }
                let length = Int(byte(value))
                guard length < 0x80, length <= end - value - 1 else { return locatedAccount }
                let text = UnsafeRawBufferPointer(start: base + value + 1, count: length)
                if keyByte == Self.emailCode { email = text } else if keyByte == Self.domainCode { domain = text }
                index = value + 1 + length
            case EventCodec.Tag.int32: index = value + 4
            case EventCodec.Tag.double: index = value + 8
            case EventCodec.Tag.null, EventCodec.Tag.false, EventCodec.Tag.true: index = value
            default: return locatedAccount
            }
            guard index <= end else { return locatedAccount }
            remaining -= 1
        }
        guard email != nil || domain != nil else { return nil }
        return AccountRule.domainAccount(emailDomain: nil, email: email, domain: domain).map { (account: $0, explicit: false) }
    }

    /// `capturedAccount` through the general reader.
    private var locatedAccount: (account: String, explicit: Bool)? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 5) { offsets in
            locate(Self.accountFields, into: offsets)
            guard offsets.contains(where: { $0 >= 0 }) else { return nil }
            func bytes(_ index: Int) -> UnsafeRawBufferPointer? {
                guard case .string(let bytes) = stored(at: offsets[index]) else { return nil }
                return bytes
            }
            if let explicit = bytes(0).flatMap(AccountRule.accountID(bytes:)) ?? bytes(1).flatMap(AccountRule.accountID(bytes:)) {
                return (account: explicit, explicit: true)
            }
            return AccountRule.domainAccount(emailDomain: bytes(2), email: bytes(3), domain: bytes(4)).map { (account: $0, explicit: false) }
        }
    }
}
