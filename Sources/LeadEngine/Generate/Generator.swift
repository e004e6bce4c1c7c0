import LeadDomain
import LedgerJSON

/// A small, fast, seedable random number generator (SplitMix64): the same seed gives the same
/// data set on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &self)]
    }

    /// Picks by weight.
    mutating func pick<T>(_ items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var roll = Double.random(in: 0..<total, using: &self)
        for (item, weight) in items {
            roll -= weight
            if roll < 0 { return item }
        }
        return items[items.count - 1].0
    }
}

/// Generates a realistic B2B lead history: captures with profiles, touches across channels
/// and campaigns, anonymous pre-capture touches that arrive late, MQL handoffs, sales
/// follow-up, accepts and rejections with reasons, opportunities, wins and losses — every
/// event valid under the lifecycle, about 20 events per lead. Deterministic for a seed.
public struct Generator {
    public var leads: Int
    public var seed: UInt64
    /// The first capture; captures spread over the following `spanDays`.
    public var start = Timestamp(rfc3339: "2025-09-01T08:00:00Z")!
    public var spanDays = 300.0

    public init(leads: Int, seed: UInt64 = 42) {
        self.leads = leads
        self.seed = seed
    }

    struct Source {
        let name: String
        let channel: String
        let weight: Double
        /// How likely sales is to reject its leads, and for which reasons.
        let rejectRate: Double
        let rejectReasons: [(String, Double)]
        let fitBias: Double
    }

    static let sources: [Source] = [
        Source(name: "website", channel: "organic", weight: 24, rejectRate: 0.2, rejectReasons: [("not_interested", 3), ("bad_timing", 3), ("no_budget", 2), ("not_fit", 2)], fitBias: 0.5),
        Source(name: "google-ads", channel: "paid_search", weight: 18, rejectRate: 0.3, rejectReasons: [("not_fit", 4), ("wrong_size", 3), ("not_interested", 2)], fitBias: 0.4),
        Source(name: "linkedin-ads", channel: "paid_social", weight: 14, rejectRate: 0.25, rejectReasons: [("wrong_contact", 3), ("wrong_size", 2), ("no_budget", 2)], fitBias: 0.6),
        Source(name: "webinar", channel: "webinar", weight: 14, rejectRate: 0.18, rejectReasons: [("bad_timing", 3), ("not_interested", 2), ("competitor", 1)], fitBias: 0.6),
        Source(name: "trade-show", channel: "event", weight: 8, rejectRate: 0.22, rejectReasons: [("wrong_contact", 3), ("not_interested", 2), ("duplicate", 1)], fitBias: 0.55),
        Source(name: "partner", channel: "referral", weight: 7, rejectRate: 0.12, rejectReasons: [("bad_timing", 2), ("no_budget", 2)], fitBias: 0.7),
        Source(name: "purchased-list", channel: "outbound", weight: 9, rejectRate: 0.55, rejectReasons: [("bad_data", 5), ("not_fit", 3), ("wrong_contact", 3), ("duplicate", 1)], fitBias: 0.25),
        Source(name: "content-syndication", channel: "content", weight: 6, rejectRate: 0.4, rejectReasons: [("not_interested", 4), ("not_fit", 2), ("bad_data", 1)], fitBias: 0.35),
    ]

    static let campaigns: [(name: String, channel: String, type: EventType, content: String?)] = [
        ("Q1 Webinar: Pipeline", "webinar", .touchWebinarAttended, nil),
        ("Q2 Webinar: Attribution", "webinar", .touchWebinarAttended, nil),
        ("Nurture: Onboarding", "email", .touchEmailClick, "nurture-1"),
        ("Newsletter", "email", .touchEmailOpen, "newsletter"),
        ("Product Launch", "email", .touchEmailClick, "launch"),
        ("Brand Search", "paid_search", .touchAdClick, "brand-kw"),
        ("Competitor Search", "paid_search", .touchAdClick, "competitor-kw"),
        ("ABM LinkedIn", "paid_social", .touchAdClick, "abm-carousel"),
        ("State of RevOps Report", "content", .touchContentDownload, "revops-report"),
        ("ROI Calculator", "content", .touchContentDownload, "roi-calculator"),
        ("SaaStr Booth", "event", .touchEventAttended, nil),
        ("Pricing Page", "organic", .touchPageView, nil),
        ("Blog", "organic", .touchPageView, nil),
        ("Direct Mail PURL", "direct_mail", .touchPurlVisit, nil),
        ("Website Chat", "organic", .touchChat, nil),
    ]

    static let titles: [(String, Double)] = [
        ("VP Marketing", 6), ("Director of Demand Generation", 6), ("Head of Revenue Operations", 4), ("CMO", 2),
        ("Chief Revenue Officer", 1), ("Marketing Manager", 14), ("Marketing Operations Manager", 8), ("Sales Manager", 6),
        ("Account Executive", 6), ("Marketing Coordinator", 10), ("Analyst", 8), ("Student", 3), ("Consultant", 6),
        ("VP Sales", 3), ("Director, Sales Operations", 3), ("Software Engineer", 6),
    ]
    static let industries: [(String, Double)] = [
        ("software", 30), ("fintech", 10), ("healthcare", 10), ("manufacturing", 10), ("retail", 9),
        ("education", 7), ("media", 6), ("consulting", 8), ("logistics", 5), ("government", 3),
    ]
    static let countries: [(country: String, region: String, weight: Double)] = [
        ("US", "NA", 45), ("CA", "NA", 6), ("GB", "EMEA", 12), ("DE", "EMEA", 9), ("FR", "EMEA", 6),
        ("NL", "EMEA", 3), ("AU", "APAC", 5), ("IN", "APAC", 6), ("JP", "APAC", 3), ("BR", "LATAM", 5),
    ]
    static let firstNames = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Maya", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
    static let lastNames = ["Adams", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Iyer", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Vargas", "Weber", "Young", "Zhang"]
    static let companyWords = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Pied Piper", "Massive", "Aperture", "Oscorp", "Gringotts", "Monarch", "Dunder", "Prestige"]
    static let companySuffixes = ["Labs", "Systems", "Health", "Capital", "Logistics", "Software", "Group", "Analytics", "Retail", "Works"]
    static let marketers = ["mops-alice", "mops-bruno"]
    static let salesOwners = ["ae-carla", "ae-dmitri", "ae-emeka", "ae-fiona", "ae-gustavo", "ae-hana"]

    /// Calls `emit` with every event, lead by lead, each lead's events in the order a CRM
    /// would deliver them (late pre-capture touches after the capture).
    public func generate(_ emit: (Envelope) throws -> Void) rethrows {
        guard leads > 0 else { return }
        var random = SeededRandom(seed: seed)
        let sourceWeights = Self.sources.map { ($0, $0.weight) }
        for index in 1...leads {
            let lead = "L-" + String(index).leftPadded(to: 6)
            var sequence = 0
            func event(_ type: EventType, _ at: Timestamp, actor: String?, _ data: JSONObject) -> Envelope {
                sequence += 1
                return Envelope(id: "\(lead)-\(String(sequence).leftPadded(to: 3))", type: type, lead: lead, at: at.truncatedToSeconds, actor: actor, data: data)
            }
            let source = random.pick(sourceWeights)
            let captured = start.adding(days: Double(index - 1) / Double(max(leads, 1)) * spanDays + Double.random(in: 0..<1, using: &random))
            let good = random.chance(source.fitBias)
            let first = random.pick(Self.firstNames)
            let last = random.pick(Self.lastNames)
            let company = "\(random.pick(Self.companyWords)) \(random.pick(Self.companySuffixes))"
            let domain = company.lowercased().replacingSpaces(with: "") + ".com"
            let freeMail = random.chance(good ? 0.03 : 0.2)
            let place = random.pick(Self.countries.map { (($0.country, $0.region), $0.weight) })
            let employees = good ? Int.random(in: 150...20_000, using: &random) : Int.random(in: 1...400, using: &random)
            let campaign = random.pick(Self.campaigns.filter { $0.channel == source.channel }.map(\.name) + [source.name == "website" ? "Website" : "\(source.name) general"])
            let title = good ? random.pick(Array(Self.titles.prefix(7)) + [("Marketing Manager", 4)]) : random.pick(Self.titles)
            let profile: JSONObject = [
                "email": .string("\(first.lowercased()).\(last.lowercased())@\(freeMail ? random.pick(["gmail.com", "yahoo.com", "hotmail.com"]) : domain)"),
                "firstName": .string(first), "lastName": .string(last), "title": .string(title),
                "company": .string(company), "domain": .string(domain),
                "industry": .string(good ? random.pick(Array(Self.industries.prefix(4))) : random.pick(Self.industries)),
                "employees": .integer(employees),
                "annualRevenue": .number(Double(employees) * Double(Int.random(in: 80...250, using: &random)) * 1000),
                "country": .string(place.0), "region": .string(place.1),
                "source": .string(source.name), "campaign": .string(campaign), "channel": .string(source.channel),
            ]
            try emit(event(.leadCaptured, captured, actor: "marketo-sync", profile))

            // Anonymous history (cookie-matched once the lead is known) arrives late.
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let at = captured.adding(days: -Double.random(in: 0.5..<45, using: &random))
                try emit(touch(&random, at: at, event: event, engaged: good))
            }
            if random.chance(0.05) {
                try emit(event(.leadEnriched, captured.adding(days: 1), actor: "clearbit", ["employees": .integer(employees + Int.random(in: 0...50, using: &random)), "industry": profile["industry"]!]))
            }

            // Engagement after capture.
            var now = captured
            let touches = Int.random(in: good ? 8...30 : 4...20, using: &random)
            for _ in 0..<touches {
                now = now.adding(days: Double.random(in: 0.1..<9, using: &random))
                try emit(touch(&random, at: now, event: event, engaged: good))
            }
            if random.chance(0.03) {
                try emit(event(random.chance(0.5) ? .leadUnsubscribed : .leadBounced, now.adding(days: 2), actor: "marketo-sync", ["reason": "list hygiene"]))
                continue
            }

            // The sales cycle, for the leads marketing qualifies.
            guard random.chance(good ? 0.6 : 0.22) else { continue }
            now = now.adding(days: Double.random(in: 0.1..<2, using: &random))
            try emit(event(.leadQualified, now, actor: "mops-alice", ["by": "manual", "reason": "meets MQL criteria"]))
            let owner = random.pick(Self.salesOwners)
            now = now.adding(days: Double.random(in: 0.01..<1.5, using: &random))
            try emit(event(.leadHandedOff, now, actor: random.pick(Self.marketers), ["from": "marketing", "to": .string(owner), "reason": "MQL"]))
            // Follow-up: usually within a day, sometimes late (SLA breaches).
            let slow = random.chance(0.2)
            now = now.adding(days: slow ? Double.random(in: 1.5..<6, using: &random) : Double.random(in: 0.02..<0.9, using: &random))
            try emit(event(.salesContacted, now, actor: owner, ["channel": .string(random.pick(["call", "email", "meeting"]))]))
            now = now.adding(days: Double.random(in: 0.1..<3, using: &random))
            if random.chance(good ? source.rejectRate * 0.5 : min(0.9, source.rejectRate * 1.6)) {
                let recycle = random.chance(0.35)
                try emit(event(.salesRejected, now, actor: owner, ["reason": .string(random.pick(source.rejectReasons)), "recycle": .bool(recycle)]))
                continue
            }
            try emit(event(.salesAccepted, now, actor: owner, ["note": "good conversation"]))
            guard random.chance(good ? 0.7 : 0.4) else { continue }
            now = now.adding(days: Double.random(in: 1..<14, using: &random))
            try emit(event(.salesQualified, now, actor: owner, [:]))
            guard random.chance(0.75) else { continue }
            now = now.adding(days: Double.random(in: 1..<10, using: &random))
            let opportunity = "OPP-" + String(index).leftPadded(to: 6)
            let amount = Double(Int.random(in: 8...240, using: &random) * 500)
            try emit(event(.opportunityOpened, now, actor: owner, ["opportunity": .string(opportunity), "amount": .number(amount), "currency": "USD"]))
            // Touches during the opportunity (they count for full-path attribution).
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                now = now.adding(days: Double.random(in: 1..<8, using: &random))
                try emit(touch(&random, at: now, event: event, engaged: true))
            }
            now = now.adding(days: Double.random(in: 5..<60, using: &random))
            let won = random.chance(good ? 0.4 : 0.2)
            try emit(event(.dealClosed, now, actor: owner, won
                ? ["opportunity": .string(opportunity), "outcome": "won", "amount": .number(amount * Double.random(in: 0.8...1.1, using: &random)).rounded, "currency": "USD"]
                : ["opportunity": .string(opportunity), "outcome": "lost", "reason": .string(random.pick(["price", "competitor", "no decision", "timing"]))]))
        }
    }

    private func touch(_ random: inout SeededRandom, at: Timestamp, event: (EventType, Timestamp, String?, JSONObject) -> Envelope, engaged: Bool) -> Envelope {
        let campaign = random.pick(Self.campaigns)
        var type = campaign.type
        if type == .touchWebinarAttended && random.chance(0.4) { type = .touchWebinarRegistered }
        if type == .touchEmailClick && random.chance(0.3) { type = .touchEmailOpen }
        if engaged && random.chance(0.02) { type = .touchDemoRequested }
        var data: JSONObject = ["channel": .string(type == .touchDemoRequested ? "organic" : campaign.channel), "campaign": .string(campaign.name)]
        if let content = campaign.content { data["content"] = .string(content) }
        if type == .touchPageView {
            data["url"] = .string(campaign.name == "Pricing Page" ? "https://example.com/pricing" : "https://example.com/blog/\(Int.random(in: 1...40, using: &random))")
        }
        if type == .touchAdClick { data["medium"] = "cpc" }
        return event(type, at, "marketo-sync", data)
    }
}

extension JSONValue {
    /// A number rounded to cents.
    var rounded: JSONValue {
        if case .number(let value) = self { return .number((value * 100).rounded() / 100) }
        return self
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    func replacingSpaces(with replacement: String) -> String {
        split(separator: " ").joined(separator: replacement)
    }
}
