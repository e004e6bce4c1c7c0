import FuzzSupport
import LeadDomain
import LeadEngine
import LedgerJSON

/// Scoring-rules documents on any text, read as YAML and as JSON (`RulesDocument.parse`, as
/// `rules publish` and `rescore --rules` read them): no crash, and rules that are usable:
/// - published, they survive what the store does with them: stored as `rules.published`
///   data through `EventCodec` and read back with `ScoringRules(document:)` (as every store
///   that opens the log does), and written as JSON and read again (`rules show --format json`,
///   an export re-ingested), the same rules; and the event published is one ingest accepts
///   (but for the length of its id);
/// - a `Scorer` answers alike on decoded events and on stored bytes (`record` on an
///   `Envelope` and on an `EventView`, fit points on a profile and on a capture's payload),
///   and evaluates a small profile without trapping.
///
/// After a line `#%events`, the input's remaining lines are JSONL events added to the fixed
/// ones scored (so that values as well as rules are mutated).
let fixedEvents: [String] = [
    #"{"id":"c1","type":"lead.captured","lead":"L-1","at":"2026-02-10T09:02:11Z","actor":"sync","data":{"email":"dana@northwind.com","firstName":"Dana","title":"VP Revenue Operations","company":"Northwind","industry":"software","employees":1200,"annualRevenue":340000000,"country":"US","source":"webinar","campaign":"Q1 Webinar: Pipeline","channel":"webinar"}}"#,
    #"{"id":"c2","type":"lead.captured","lead":"L-2","at":"2026-02-10T09:02:11Z","data":{"email":"zoë@gmail.com","title":"Directeur Général","company":"\u212Aelvin AG","industry":"fintech","employees":12,"annualRevenue":12.5,"source":"ads","optedIn":true,"score":null}}"#,
    #"{"id":"c3","type":"lead.captured","lead":"L-3","at":"2026-02-10T09:02:11Z","data":{"source":"x","title":"","employees":0,"tags":["a","b"],"utm":{"source":"li"}}}"#,
    #"{"id":"e1","type":"lead.enriched","lead":"L-1","at":"2026-02-11T09:00:00Z","data":{"title":"Head of Growth","employees":250}}"#,
    #"{"id":"t1","type":"touch.page_view","lead":"L-1","at":"2026-02-12T10:00:00Z","data":{"channel":"web","url":"https://x.io/pricing?a=1"}}"#,
    #"{"id":"t2","type":"touch.page_view","lead":"L-1","at":"2026-02-12T10:05:00Z","data":{"channel":"web","url":"/blog/é"}}"#,
    #"{"id":"t3","type":"touch.email_click","lead":"L-1","at":"2026-02-13T10:00:00Z","data":{"channel":"email","campaign":"Newsletter"}}"#,
    #"{"id":"t4","type":"touch.webinar_attended","lead":"L-1","at":"2026-02-14T10:00:00Z","data":{"channel":"webinar","campaign":"Q1 Webinar: Pipeline"}}"#,
    #"{"id":"t5","type":"touch.demo_requested","lead":"L-1","at":"2026-02-15T10:00:00Z","data":{"channel":"web"}}"#,
    #"{"id":"u1","type":"lead.unsubscribed","lead":"L-1","at":"2026-02-16T10:00:00Z","data":{"reason":"too many"}}"#,
]

let marker = Array("\n#%events\n".utf8)
let evaluatedAt = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!

func events(_ lines: [String]) -> [Envelope] {
    lines.compactMap { line in (try? JSONParser.parse(line)).flatMap { try? Envelope(json: $0) } }
}

let fixed: [Envelope] = {
    for line in fixedEvents where events([line]).isEmpty {
        fatalError("a fixed sample event is refused: \(line)")
    }
    return events(fixedEvents)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var document = input
    var sample = fixed
    if let split = input.firstRange(of: marker) {
        document = UnsafeRawBufferPointer(rebasing: input[..<split.lowerBound])
        let rest = String(decoding: input[split.upperBound...], as: UTF8.self)
        sample += events(rest.split(separator: "\n").map(String.init))
    }
    let text = String(decoding: document, as: UTF8.self)
    for path in ["rules.yaml", "rules.json"] {
        guard let rules = try? RulesDocument.parse(text, path: path) else { continue }
        check(rules, on: sample, input: input)
    }
    return 0
}

func check(_ rules: ScoringRules, on sample: [Envelope], input: UnsafeRawBufferPointer) {
    // Published, stored, read back.
    let published = Envelope(id: "rules:\(rules.version)", type: .rulesPublished, lead: nil, at: evaluatedAt, actor: "fuzz", data: rules.document)
    let stored = EventCodec.encode(published)
    guard let decoded = stored.withUnsafeBytes({ try? EventCodec.decode($0, id: published.id, lead: published.stream) }) else {
        finding("the published rules' payload does not decode", input: input)
    }
    let reread = Result { () throws(RulesError) in try ScoringRules(document: .object(decoded.data)) }
    guard case .success(let storedRules) = reread, storedRules == rules else {
        finding("the rules read back from the store differ: \(reread)", input: input)
    }
    let json = JSONWriter.render(.object(rules.document))
    let fromJSON = Result { try RulesDocument.parse(json, path: "rules.json") }
    guard case .success(let jsonRules) = fromJSON, jsonRules == rules else {
        finding("the rules written as JSON (\(json)) read back as \(fromJSON)", input: input)
    }
    // (Under another id: the engine's own ids, `rules:<version>` here, may be longer than the
    // 128 bytes an input's may; the log keys long ids by their hash.)
    var asInput = published
    asInput.id = "rules"
    let accepted = Result { try Envelope(json: JSONParser.parse(JSONWriter.render(asInput.json))) }
    guard case .success = accepted else {
        finding("the rules.published event the engine stores is one ingest refuses: \(accepted)", input: input)
    }

    // Scoring: decoded values and stored bytes agree.
    let scorer = Scorer(rules)
    var decodedMatches: [ScoreMatch] = []
    var storedMatches: [ScoreMatch] = []
    for (offset, event) in sample.enumerated() {
        let position = UInt64(offset + 1)
        scorer.record(event, position: position, into: &decodedMatches)
        let payload = EventCodec.encode(event)
        payload.withUnsafeBytes { bytes in
            guard let view = try? EventView(bytes) else { finding("an encoded sample event does not read in place", input: input) }
            scorer.record(view, position: position, into: &storedMatches)
            if event.type == .leadCaptured {
                let onProfile = scorer.fitPoints(event.data)
                let onBytes = scorer.fitPoints(view)
                guard onProfile == onBytes || (onProfile.isNaN && onBytes.isNaN) else {
                    finding("fit points \(onProfile) on the profile, \(onBytes) on the stored capture \(event.id)", input: input)
                }
            }
        }
        guard decodedMatches == storedMatches else {
            finding("behavior matches differ after \(event.id): decoded \(decodedMatches), stored \(storedMatches)", input: input)
        }
    }
    for event in sample where event.type == .leadCaptured {
        let breakdown = scorer.evaluate(profile: event.data, matches: decodedMatches, at: evaluatedAt, explain: true)
        let quiet = scorer.evaluate(profile: event.data, matches: decodedMatches, at: evaluatedAt)
        guard breakdown.score == quiet.score || (breakdown.score.isNaN && quiet.score.isNaN) else {
            finding("explaining changes the score: \(breakdown.score) vs \(quiet.score)", input: input)
        }
        _ = LiveScoring.qualification(
            at: evaluatedAt, stage: .lead, enteredAt: event.at, matches: decodedMatches, fit: scorer.fitPoints(event.data), scorer: scorer)
    }
}
