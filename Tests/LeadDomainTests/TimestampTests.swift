import LeadDomain
import Testing

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test func parsesUTCAndOffsetsToTheSameInstant() throws {
        let utc = try #require(Timestamp(rfc3339: "2026-03-01T10:15:00Z"))
        let offset = try #require(Timestamp(rfc3339: "2026-03-01T11:15:00+01:00"))
        #expect(utc == offset)
        #expect(utc.microseconds == 1_772_360_100 * 1_000_000)
        #expect(offset.rfc3339 == "2026-03-01T10:15:00Z")
    }

    @Test func keepsFractionsUpToMicroseconds() throws {
        #expect(Timestamp(rfc3339: "2026-03-01T10:15:00.250Z")?.rfc3339 == "2026-03-01T10:15:00.250Z")
        #expect(Timestamp(rfc3339: "2026-03-01T10:15:00.123456Z")?.rfc3339 == "2026-03-01T10:15:00.123456Z")
        #expect(Timestamp(rfc3339: "2026-03-01T10:15:00.1234567Z")?.rfc3339 == "2026-03-01T10:15:00.123456Z")
    }

    @Test func handlesDatesBeforeTheEpochAndLeapDays() throws {
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59Z")?.microseconds == -1_000_000)
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00Z")?.rfc3339 == "2024-02-29T00:00:00Z")
        #expect(Timestamp(rfc3339: "1999-12-31T23:59:59.5Z")?.rfc3339 == "1999-12-31T23:59:59.500Z")
    }

    @Test func monthStartsCountBackOverYears() throws {
        let time = try #require(Timestamp(rfc3339: "2026-05-14T10:23:45Z"))
        #expect(time.monthStart().rfc3339 == "2026-05-01T00:00:00Z")
        #expect(time.monthStart(monthsBefore: 4).rfc3339 == "2026-01-01T00:00:00Z")
        #expect(time.monthStart(monthsBefore: 5).rfc3339 == "2025-12-01T00:00:00Z")
        #expect(time.monthStart(monthsBefore: 15).rfc3339 == "2025-02-01T00:00:00Z")
        #expect(time.monthStart(monthsBefore: -8).rfc3339 == "2027-01-01T00:00:00Z")
        #expect(Timestamp(rfc3339: "2026-03-01T00:00:00Z")?.monthStart().rfc3339 == "2026-03-01T00:00:00Z")
        #expect(Timestamp(rfc3339: "1970-01-31T00:00:00Z")?.monthStart(monthsBefore: 1).rfc3339 == "1969-12-01T00:00:00Z")
    }

    @Test(arguments: ["2026-03-01", "2026-03-01T10:15:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                      "2026-03-01 10:15:00Z", "2026-03-01T25:00:00Z", "2026-03-01t10:15:00z", "yesterday", "2026-03-01T10:15:00+0100"])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    /// Found by the timestamp fuzz target (tools/fuzz): an offset could move a time out of
    /// the years 0000–9999, and the UTC text it was stored and shown as (`10000-01-01T…Z`,
    /// `00-1-12-31T…Z`) was not RFC 3339 and did not read back.
    @Test(arguments: ["9999-12-31T23:59:59.999999999-23:59", "9999-12-31T23:00:00-01:00", "0000-01-01T00:00:00+00:01",
                      "0000-01-01T00:59:59.999+01:00"])
    func refusesTimesOutsideTheYearsUTCCanWrite(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func theFirstAndLastWritableInstantsReadBack() throws {
        for text in ["0000-01-01T00:00:00Z", "0000-01-01T01:00:00+01:00", "9999-12-31T23:59:59.999999Z", "9999-12-31T22:59:59.999999-01:00"] {
            let time = try #require(Timestamp(rfc3339: text), "\(text)")
            #expect(Timestamp(rfc3339: time.rfc3339) == time, "\(text) → \(time.rfc3339)")
        }
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00Z") == .earliest)
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59.999999Z") == .latest)
    }

    @Test func commandLineDatesMayBeBareDays() {
        #expect(Timestamp(dateOrDateTime: "2026-03-01")?.rfc3339 == "2026-03-01T00:00:00Z")
        #expect(Timestamp(dateOrDateTime: "2026-03-01T08:00:00Z")?.rfc3339 == "2026-03-01T08:00:00Z")
    }
}
