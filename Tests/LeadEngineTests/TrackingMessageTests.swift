import LeadDomain
import LeadEngine
import LedgerJSON
import Testing

/// Messages to events: the mapping, the channel grouping, the clock-skew correction and every
/// refusal of a message.
@Suite("Tracking: messages, mapping and time")
struct TrackingMessageTests {
    static let received = Timestamp(rfc3339: "2026-03-10T12:00:00Z")!

    static func events(_ text: String, type: String? = nil, sentAt: String? = nil, mapping: TrackingMapping = .standard) throws -> [(Envelope, TrackingRoute?)] {
        let context = TrackingMessage.Context(source: "web", receivedAt: received, sentAt: sentAt.flatMap { Timestamp(rfc3339: $0) }, mapping: mapping)
        return try TrackingMessage.events(of: try JSONParser.parse(text), type: type, context: context)
    }

    static func refusal(_ text: String, type: String? = nil) -> String? {
        do {
            _ = try events(text, type: type)
            return nil
        } catch let refusal as TrackingRefusal {
            return refusal.reason
        } catch {
            return "\(error)"
        }
    }

    @Test func theDefaultChannelGrouping() {
        let mapping = TrackingMapping.standard
        #expect(mapping.channel(medium: "cpc", source: "google", referrerHost: nil) == "paid_search")
        #expect(mapping.channel(medium: "CPC", source: "facebook", referrerHost: nil) == "paid_social")
        #expect(mapping.channel(medium: "email", source: "hubspot", referrerHost: nil) == "email")
        #expect(mapping.channel(medium: "display", source: "dv360", referrerHost: nil) == "display")
        #expect(mapping.channel(medium: "social", source: "linkedin", referrerHost: nil) == "organic_social")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "www.google.co.uk") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "t.co") == "organic_social")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "blog.example.org") == "referral")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: nil) == "direct")
        #expect(mapping.channel(medium: "podcast", source: "acme", referrerHost: nil) == "other")
        // Hosts against the patterns: itself, its subdomains, and (a pattern ending in a dot)
        // any domain under that name; never a name that only ends or starts alike.
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "google.com") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "google.") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "images.google.de") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "bing.com") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "www.bing.com") == "organic_search")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "notbing.com") == "referral")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "bing.com.example.org") == "referral")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "notgoogle.com") == "referral")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "googlex.com") == "referral")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: "m.facebook.com") == "organic_social")
    }

    @Test func trackNamesAndPagesMapToTouches() throws {
        let demo = try Self.events(#"{"userId":"u","event":"Demo Requested","properties":{"plan":"pro"}}"#, type: "track")
        #expect(demo.first?.0.type == .touchDemoRequested)
        #expect(demo.first?.0.data["channel"] == "direct")
        #expect(demo.first?.0.data["properties"]?["plan"] == "pro")
        #expect(demo.first?.1 == .leadOrVisitor("u"))
        let other = try Self.events(#"{"anonymousId":"a","event":"Pricing Viewed"}"#, type: "track")
        #expect(other.first?.0.type == .activityTracked)
        #expect(other.first?.0.lead == "$anon:a")
        #expect(other.first?.0.data["event"] == "Pricing Viewed")
        let page = try Self.events(#"{"anonymousId":"a","context":{"page":{"url":"https://x.com/?utm_source=google&utm_medium=cpc&utm_campaign=spring"}}}"#, type: "page")
        #expect(page.first?.0.type == .touchPageView)
        #expect(page.first?.0.data["channel"] == "paid_search")
        #expect(page.first?.0.data["campaign"] == "spring")
        #expect(page.first?.0.id.hasPrefix("$t/web/sha256:") == true)
    }

    @Test func pageAndReferrerURLsAreTakenApart() throws {
        // Percent escapes and `+` decoded, a fragment, a port and user info set aside.
        let page = try Self.events(
            #"{"anonymousId":"a","context":{"page":{"url":"https://user@Example.com:8443/p?x=1&utm_source=news%20letter&utm_medium=email&utm_campaign=spring+sale&utm_content=&utm_term=a%2Bb#utm_source=no","referrer":"http://WWW.Bing.com:80/search?q=x"}}}"#,
            type: "page")
        let data = try #require(page.first?.0.data)
        #expect(data["source"] == "news letter")
        #expect(data["medium"] == "email")
        #expect(data["campaign"] == "spring sale")
        #expect(data["content"] == nil)
        #expect(data["term"] == "a+b")
        #expect(data["channel"] == "email")
        // Without UTM fields the referrer's host is the source; the page's own host is no referrer.
        let search = try Self.events(#"{"anonymousId":"a","context":{"page":{"url":"https://example.com/","referrer":"https://www.Google.co.uk/search"}}}"#, type: "page")
        #expect(search.first?.0.data["source"] == "www.google.co.uk")
        #expect(search.first?.0.data["channel"] == "organic_search")
        let inside = try Self.events(#"{"anonymousId":"a","context":{"page":{"url":"https://example.com/a","referrer":"https://EXAMPLE.com/b"}}}"#, type: "page")
        #expect(inside.first?.0.data["channel"] == "direct")
        #expect(inside.first?.0.data["source"] == nil)
        // Not a URL: no host, no parameters, no failure.
        let odd = try Self.events(#"{"anonymousId":"a","context":{"page":{"url":"not a url?utm_source","referrer":"//[::1]:8080/x"}}}"#, type: "page")
        #expect(odd.first?.0.data["source"] == "::1")
        #expect(odd.first?.0.data["url"] == "not a url?utm_source")
    }

    @Test func aBatchContextFillsWhatAMessageContextLeavesOut() throws {
        let batch: JSONObject = ["campaign": ["source": "google", "medium": "cpc", "name": "spring"], "library": ["name": "analytics-python"]]
        let context = TrackingMessage.Context(source: "web", receivedAt: Self.received, sentAt: nil, mapping: .standard, batchContext: batch)
        // The message's own campaign name wins; the batch's source and medium fill the gaps.
        let own = try TrackingMessage.events(
            of: try JSONParser.parse(#"{"anonymousId":"a","event":"Ad Clicked","context":{"campaign":{"name":"autumn"}}}"#), type: "track", context: context)
        #expect(own.first?.0.data["channel"] == "paid_search")
        #expect(own.first?.0.data["campaign"] == "autumn")
        let none = try TrackingMessage.events(of: try JSONParser.parse(#"{"anonymousId":"a","event":"Ad Clicked"}"#), type: "track", context: context)
        #expect(none.first?.0.data["campaign"] == "spring")
        #expect(throws: TrackingRefusal.self) {
            try TrackingMessage.events(of: try JSONParser.parse(#"{"anonymousId":"a","event":"Ad Clicked","context":7}"#), type: "track", context: context)
        }
    }

    @Test func aMappingDocumentReplacesWhatItNames() throws {
        let mapping = try TrackingMapping.parse("""
            events:
              Trial Started: touch.form_submit
            channels:
              - channel: partner
                source: [acme]
            directChannel: none
            """, path: "mapping.yaml")
        #expect(mapping.events == ["Trial Started": .touchFormSubmit])
        #expect(mapping.page == .touchPageView)
        #expect(mapping.channel(medium: nil, source: "acme", referrerHost: nil) == "partner")
        #expect(mapping.channel(medium: nil, source: nil, referrerHost: nil) == "none")
        #expect(try Self.events(#"{"userId":"u","event":"Trial Started"}"#, type: "track", mapping: mapping).first?.0.type == .touchFormSubmit)
        #expect(throws: TrackingMapping.Failure.self) { try TrackingMapping.parse(#"{"events":{"X":"lead.captured"}}"#, path: "m.json") }
        #expect(throws: TrackingMapping.Failure.self) { try TrackingMapping.parse(#"{"channels":[{"channel":"x","medium":"cpc"}]}"#, path: "m.json") }
        #expect(throws: TrackingMapping.Failure.self) { try TrackingMapping.parse("colour: blue", path: "m.yaml") }
    }

    @Test func clientClockSkewIsCorrected() throws {
        // The client's clock is 1 hour fast: sent at 13:00 by its clock, received at 12:00.
        let events = try Self.events(#"{"userId":"u","event":"X","timestamp":"2026-03-10T12:55:00Z"}"#, type: "track", sentAt: "2026-03-10T13:00:00Z")
        #expect(events.first?.0.at.rfc3339 == "2026-03-10T11:55:00Z")
        // A message's own sentAt wins over the batch's; without sentAt the time is as sent.
        let own = try Self.events(#"{"userId":"u","event":"X","timestamp":"2026-03-10T11:00:00Z","sentAt":"2026-03-10T11:30:00Z"}"#, type: "track", sentAt: "2026-03-10T13:00:00Z")
        #expect(own.first?.0.at.rfc3339 == "2026-03-10T11:30:00Z")
        #expect(try Self.events(#"{"userId":"u","event":"X","timestamp":"2026-03-01T00:00:00Z"}"#, type: "track").first?.0.at.rfc3339 == "2026-03-01T00:00:00Z")
        #expect(try Self.events(#"{"userId":"u","event":"X"}"#, type: "track").first?.0.at == Self.received)
    }

    @Test func everyRefusalSaysWhy() {
        #expect(Self.refusal(#"{"event":"X"}"#, type: "track")?.contains("needs a userId or an anonymousId") == true)
        for placeholder in ["anonymous", "undefined", "null", "0", "NaN", "[object Object]", " ", "", "guest"] {
            #expect(Self.refusal(#"{"anonymousId":"\#(placeholder)","event":"X"}"#, type: "track")?.contains("anonymousId") == true, "\(placeholder)")
        }
        #expect(Self.refusal(#"{"userId":"u"}"#, type: "track")?.contains("event") == true)
        #expect(Self.refusal(#"{"userId":"u","event":"X"}"#)?.contains("type") == true)
        #expect(Self.refusal(#"{"type":"shout","userId":"u"}"#)?.contains("shout") == true)
        #expect(Self.refusal(#"{"userId":"u"}"#, type: "group")?.contains("groupId") == true)
        #expect(Self.refusal(#"{"userId":"u"}"#, type: "alias")?.contains("previousId") == true)
        #expect(Self.refusal(#"{"previousId":"a"}"#, type: "alias")?.contains("userId") == true)
        #expect(Self.refusal(#"{"userId":"u","event":"X","timestamp":"yesterday"}"#, type: "track")?.contains("timestamp") == true)
        #expect(Self.refusal(#"{"userId":{"id":1},"event":"X"}"#, type: "track")?.contains("userId") == true)
        #expect(Self.refusal(#"{"userId":"$rules","event":"X"}"#, type: "track")?.contains("reserved") == true)
        #expect(Self.refusal(#"[1]"#, type: "track")?.contains("object") == true)
    }

    @Test func identifyGroupAndAliasEvents() throws {
        let identify = try Self.events(#"{"userId":"u","anonymousId":"a","traits":{"email":"e@x.com","employees":120}}"#, type: "identify")
        #expect(identify.map(\.0.type) == [.leadCaptured, .identityLinked, .identityLinked])
        #expect(identify[0].0.data["source"] == "web")
        #expect(identify[1].0.data["visitor"] == "a")
        #expect(identify[2].1 == .link(alias: false, onlyIfAny: true))
        let group = try Self.events(#"{"userId":"u","groupId":42,"traits":{"name":"Acme"}}"#, type: "group")
        #expect(group.first?.0.type == .leadEnriched)
        #expect(group.first?.0.data["accountId"] == "42")
        let alias = try Self.events(#"{"userId":"u","previousId":"a"}"#, type: "alias")
        #expect(alias.map(\.1) == [.captureOrEnrich, .link(alias: true, onlyIfAny: false)])
    }
}
