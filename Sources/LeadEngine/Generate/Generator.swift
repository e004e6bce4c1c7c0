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
/// event valid under the lifecycle, about 20 events per lead. Deterministic for a seed and
/// an end.
///
/// The history covers [`start`, `end`]: captures spread over it with seasonality (weekdays
/// over weekends, business hours, busy and quiet months, a business that grows), and nothing
/// happens after `end` — a lead captured lately is still in the middle of its story, as a
/// CRM's leads are today.
public struct Generator {
    /// The end of the history when none is given: a fixed time, so that a seed always gives
    /// the same bytes (tests, the bench). The demo ends its history now.
    public static let defaultEnd = Timestamp(rfc3339: "2026-09-01T00:00:00Z")!

    public var leads: Int
    public var seed: UInt64
    /// The first possible capture.
    public var start: Timestamp
    /// No event happens after it.
    public var end: Timestamp
    /// The scoring rules live scoring applies to this history, if any. The generator then
    /// tells each lead's story as the engine will score it: a lead the rules qualify is
    /// handed off to sales after the engine's `lead.qualified`, and marketing qualifies by
    /// hand only leads the rules leave below the threshold — so ingesting the history under
    /// these rules refuses nothing, and every handoff carries a score and a rules version.
    public var rules: ScoringRules?
    /// With `rules`: whether the history begins with their `rules.published` (at `start`), so
    /// that ingesting it alone scores it live. (The demo publishes the rules itself.)
    public var beginsWithRules = true

    /// A history of `days` days ending at `end`.
    public init(leads: Int, seed: UInt64 = 42, end: Timestamp = Generator.defaultEnd, days: Double = 365) {
        self.leads = leads
        self.seed = seed
        self.end = end
        self.start = end.adding(days: -days)
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
    /// would deliver them (late pre-capture touches after the capture); with `rules` and
    /// `beginsWithRules`, their `rules.published` first.
    public func generate(_ emit: (Envelope) throws -> Void) rethrows {
        guard leads > 0 else { return }
        if let rules, beginsWithRules {
            try emit(Envelope(
                id: "rules:\(rules.version)", type: .rulesPublished, lead: nil, at: start.truncatedToSeconds,
                actor: Self.marketers[0], data: rules.document))
        }
        var random = SeededRandom(seed: seed)
        let calendar = CaptureCalendar(start: start, end: end)
        var story = Story(end: end, scorer: rules.map(Scorer.init))
        for index in 1...leads {
            story.begin("L-" + String(index).leftPadded(to: 6))
            tell(index, &story, &random, calendar)
            for event in story.events { try emit(event) }
        }
    }

    /// One lead's story, into `story` (which stops taking events after the end).
    private func tell(_ index: Int, _ story: inout Story, _ random: inout SeededRandom, _ calendar: CaptureCalendar) {
        let source = random.pick(Self.sourceWeights)
        let captured = calendar.time(at: (Double(index - 1) + Double.random(in: 0..<1, using: &random)) / Double(leads))
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
        let industry = good ? random.pick(Array(Self.industries.prefix(4))) : random.pick(Self.industries)
        let profile: JSONObject = [
            "email": .string("\(first.lowercased()).\(last.lowercased())@\(freeMail ? random.pick(["gmail.com", "yahoo.com", "hotmail.com"]) : domain)"),
            "firstName": .string(first), "lastName": .string(last), "title": .string(title),
            "company": .string(company), "domain": .string(domain),
            "industry": .string(industry),
            "employees": .integer(employees),
            "annualRevenue": .number(Double(employees) * Double(Int.random(in: 80...250, using: &random)) * 1000),
            "country": .string(place.0), "region": .string(place.1),
            "source": .string(source.name), "campaign": .string(campaign), "channel": .string(source.channel),
        ]
        guard story.add(.leadCaptured, captured, actor: "marketo-sync", profile) else { return }

        // Anonymous history (cookie-matched once the lead is known) arrives late; tracking
        // began with the history.
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let at = captured.adding(days: -Double.random(in: 0.5..<45, using: &random))
            let touch = touch(&random, engaged: good)
            if at >= start { story.add(touch.type, at, actor: "marketo-sync", touch.data) }
        }
        if random.chance(0.05) {
            story.add(.leadEnriched, captured.adding(days: 1), actor: "clearbit", ["employees": .integer(employees + Int.random(in: 0...50, using: &random)), "industry": .string(industry)])
        }

        // Engagement after capture, until the rules (if any) qualify the lead.
        var now = captured
        let touches = Int.random(in: good ? 8...30 : 4...20, using: &random)
        for _ in 0..<touches where story.qualifiedAt == nil {
            now = now.adding(days: Double.random(in: 0.1..<9, using: &random))
            let touch = touch(&random, engaged: good)
            guard story.add(touch.type, now, actor: "marketo-sync", touch.data) else { return }
        }
        if story.qualifiedAt == nil, random.chance(0.03) {
            story.add(random.chance(0.5) ? .leadUnsubscribed : .leadBounced, now.adding(days: 2), actor: "marketo-sync", ["reason": "list hygiene"])
            return
        }

        // The sales cycle, for the leads marketing qualifies: by the rules, routed to sales
        // within hours; without rules (or below their threshold), by hand.
        if let qualifiedAt = story.qualifiedAt {
            now = max(now, qualifiedAt).adding(days: Double.random(in: 0.01..<0.4, using: &random))
        } else {
            let chance = rules == nil ? (good ? 0.6 : 0.22) : (good ? 0.2 : 0.06)
            guard random.chance(chance) else { return }
            now = now.adding(days: Double.random(in: 0.1..<2, using: &random))
            guard story.add(.leadQualified, now, actor: "mops-alice", ["by": "manual", "reason": "meets MQL criteria"]) else { return }
            now = now.adding(days: Double.random(in: 0.01..<1.5, using: &random))
        }
        let owner = random.pick(Self.salesOwners)
        guard story.add(.leadHandedOff, now, actor: random.pick(Self.marketers), ["from": "marketing", "to": .string(owner), "reason": "MQL"]) else { return }
        // Follow-up: usually within a day, sometimes late (SLA breaches).
        let slow = random.chance(0.2)
        now = now.adding(days: slow ? Double.random(in: 1.5..<6, using: &random) : Double.random(in: 0.02..<0.9, using: &random))
        guard story.add(.salesContacted, now, actor: owner, ["channel": .string(random.pick(["call", "email", "meeting"]))]) else { return }
        now = now.adding(days: Double.random(in: 0.1..<3, using: &random))
        if random.chance(good ? source.rejectRate * 0.5 : min(0.9, source.rejectRate * 1.6)) {
            let recycle = random.chance(0.35)
            story.add(.salesRejected, now, actor: owner, ["reason": .string(random.pick(source.rejectReasons)), "recycle": .bool(recycle)])
            return
        }
        guard story.add(.salesAccepted, now, actor: owner, ["note": "good conversation"]) else { return }
        guard random.chance(good ? 0.7 : 0.4) else { return }
        now = now.adding(days: Double.random(in: 1..<14, using: &random))
        guard story.add(.salesQualified, now, actor: owner, [:]) else { return }
        guard random.chance(0.75) else { return }
        now = now.adding(days: Double.random(in: 1..<10, using: &random))
        let opportunity = "OPP-" + String(index).leftPadded(to: 6)
        let amount = Double(Int.random(in: 8...240, using: &random) * 500)
        guard story.add(.opportunityOpened, now, actor: owner, ["opportunity": .string(opportunity), "amount": .number(amount), "currency": "USD"]) else { return }
        // Touches during the opportunity (they count for full-path attribution).
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            now = now.adding(days: Double.random(in: 1..<8, using: &random))
            let touch = touch(&random, engaged: true)
            guard story.add(touch.type, now, actor: "marketo-sync", touch.data) else { return }
        }
        now = now.adding(days: Double.random(in: 5..<60, using: &random))
        let won = random.chance(good ? 0.4 : 0.2)
        story.add(.dealClosed, now, actor: owner, won
            ? ["opportunity": .string(opportunity), "outcome": "won", "amount": .number(amount * Double.random(in: 0.8...1.1, using: &random)).rounded, "currency": "USD"]
            : ["opportunity": .string(opportunity), "outcome": "lost", "reason": .string(random.pick(["price", "competitor", "no decision", "timing"]))])
    }

    static let sourceWeights = sources.map { ($0, $0.weight) }

    private func touch(_ random: inout SeededRandom, engaged: Bool) -> (type: EventType, data: JSONObject) {
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
        return (type, data)
    }
}

/// One lead's events as they are generated: cut at the history's end (an event after it is
/// not taken, and the caller's story stops there), and — with rules — the lead as live
/// scoring will see it, through the same functions the engine scores with (`Lifecycle`,
/// `Scorer`, `LiveScoring`), so that the generator knows when the engine qualifies it.
struct Story {
    let end: Timestamp
    let scorer: Scorer?
    private(set) var lead = ""
    private(set) var events: [Envelope] = []
    /// When live scoring qualified the lead (with rules), if it did.
    private(set) var qualifiedAt: Timestamp?
    private var state: LeadState?
    private var fit = 0.0
    /// The lead's own positions: the log keeps a lead's events in this order.
    private var position: UInt64 = 0

    init(end: Timestamp, scorer: Scorer?) {
        self.end = end
        self.scorer = scorer
    }

    mutating func begin(_ lead: String) {
        self.lead = lead
        events.removeAll(keepingCapacity: true)
        qualifiedAt = nil
        state = nil
        fit = 0
        position = 0
    }

    /// Takes the event unless it happens after the end; says whether it took it.
    @discardableResult
    mutating func add(_ type: EventType, _ at: Timestamp, actor: String?, _ data: JSONObject) -> Bool {
        let at = at.truncatedToSeconds
        guard at <= end else { return false }
        let event = Envelope(id: "\(lead)-\(String(events.count + 1).leftPadded(to: 3))", type: type, lead: lead, at: at, actor: actor, data: data)
        events.append(event)
        if let scorer { score(event, scorer) }
        return true
    }

    /// What the live projection does with the event, and the `lead.qualified` it appends after
    /// it, if any (applied and recorded like any stored event).
    private mutating func score(_ event: Envelope, _ scorer: Scorer) {
        guard Lifecycle.refusal(of: event, given: state) == nil else { return }
        position += 1
        Lifecycle.apply(event, position: position, to: &state)
        guard var current = state else { return }
        state = nil  // (`current` is the only copy while it changes)
        scorer.record(event, position: position, into: &current.matches)
        if event.type == .leadCaptured || event.type == .leadEnriched { fit = scorer.fitPoints(current.profile) }
        if LiveScoring.triggers(event.type), let qualification = LiveScoring.qualification(
            at: event.at, stage: current.stage, enteredAt: current.stageEnteredAt, matches: current.matches, fit: fit, scorer: scorer) {
            let qualified = LiveScoring.qualifiedEvent(
                lead: lead, trigger: event.id, score: qualification.score, at: qualification.at, rulesVersion: scorer.rules.version)
            position += 1
            Lifecycle.apply(qualified, position: position, to: &current)
            scorer.record(qualified, position: position, into: &current.matches)
            qualifiedAt = qualification.at
        }
        state = current
    }
}

/// When captures happen: a weight for each day of the history — weekdays over weekends, busy
/// and quiet months of a B2B year, a business that grows by a third over a year — spread
/// over business hours (06:00–20:00 UTC: the Americas' and Europe's working days). Captures
/// are placed at evenly spaced fractions of the total weight, so lead ids follow time.
struct CaptureCalendar {
    /// January to December.
    static let monthWeights = [1.0, 1.05, 1.15, 1.0, 1.05, 0.95, 0.8, 0.7, 1.1, 1.2, 1.05, 0.75]
    /// Sunday to Saturday.
    static let weekdayWeights = [0.25, 1.0, 1.05, 1.05, 1.0, 0.9, 0.3]
    static let opens = 6.0 / 24, closes = 20.0 / 24

    let start: Timestamp
    /// Each day's business hours within the history, and the weight of the days up to it.
    private var windows: [(from: Timestamp, days: Double)] = []
    private var cumulative: [Double] = []

    init(start: Timestamp, end: Timestamp) {
        self.start = start
        guard start < end else { return }
        let perDay = Timestamp.microsecondsPerDay
        func day(_ time: Timestamp) -> Int64 {
            time.microseconds >= 0 ? time.microseconds / perDay : (time.microseconds + 1) / perDay - 1
        }
        let firstDay = day(start), lastDay = day(end)
        let span = max(start.days(until: end), 1)
        var total = 0.0
        for day in firstDay...lastDay {
            let midnight = Timestamp(microseconds: day * perDay)
            let from = max(midnight.adding(days: Self.opens), start)
            let to = min(midnight.adding(days: Self.closes), end)
            guard from < to else { continue }
            let days = from.days(until: to)
            let growth = 0.85 + 0.3 * start.days(until: from) / span
            let weekday = Int((day % 7 + 7 + 4) % 7)  // 1970-01-01 was a Thursday
            total += days / (Self.closes - Self.opens) * Self.monthWeights[midnight.components.month - 1] * Self.weekdayWeights[weekday] * growth
            windows.append((from, days))
            cumulative.append(total)
        }
    }

    /// The time at `fraction` (in [0, 1)) of all the history's captures.
    func time(at fraction: Double) -> Timestamp {
        guard let total = cumulative.last, total > 0 else { return start }
        let target = fraction * total
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        let before = low > 0 ? cumulative[low - 1] : 0
        let within = min(max((target - before) / (cumulative[low] - before), 0), 1)
        return windows[low].from.adding(days: within * windows[low].days)
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
