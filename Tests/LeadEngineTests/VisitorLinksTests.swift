import EventLog
import LMDB
import Testing
import TestSupport
@testable import LeadEngine

/// The cache of which lead each visitor is joined to, on a real store: its answers are the
/// log's whatever the order of the look-ups, however often it fills and is emptied.
@Suite("Visitor links: the cache of which lead a visitor is joined to")
struct VisitorLinksTests {
    @Test func answersStayTheLogsAcrossClears() throws {
        let test = try TestStore("visitor-links")
        var messages = (1...5).map { #"{"type":"page","anonymousId":"v-\#($0)","messageId":"p-\#($0)","timestamp":"2026-03-01T09:00:00Z"}"# }
        messages.append(#"{"type":"identify","userId":"u-3","anonymousId":"v-3","messageId":"i-3","timestamp":"2026-03-02T09:00:00Z","traits":{"email":"c@example.com"}}"#)
        try TrackingIdentityTests.send(test.store, messages)
        let links = VisitorLinks(capacity: 2)
        let reader = test.store.log.reader
        try test.store.log.environment.read { (txn: ReadTransaction) throws in
            for order in [[1, 2, 3, 4, 5], [3, 3, 1, 5, 3], [5, 4, 3, 2, 1], [3, 1, 3, 2, 3]] {
                for number in order {
                    #expect(try links.lead(of: "v-\(number)", reader: reader, in: txn) == (number == 3 ? "u-3" : nil))
                }
            }
            #expect(try links.lead(of: "v-unknown", reader: reader, in: txn) == nil)
        }
    }
}
