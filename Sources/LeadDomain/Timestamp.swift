/// A point in time, in microseconds since 1970-01-01T00:00:00Z (UTC).
///
/// Parsed from RFC 3339 (`2026-03-01T10:15:00Z`, `2026-03-01T11:15:00.250+01:00`) and always
/// rendered in UTC with a `Z`, with a fraction only when there is one (milliseconds, or
/// microseconds when needed). Digits beyond microseconds are truncated.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public init(seconds: Int64) {
        self.microseconds = seconds * 1_000_000
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    public static let microsecondsPerDay: Int64 = 86_400_000_000

    /// Days (fractional) from `self` to `later`.
    public func days(until later: Timestamp) -> Double {
        Double(later.microseconds - microseconds) / Double(Self.microsecondsPerDay)
    }

    public func adding(days: Double) -> Timestamp {
        Timestamp(microseconds: microseconds + Int64(days * Double(Self.microsecondsPerDay)))
    }

    public var description: String { rfc3339 }

    /// The same time without its fraction of a second.
    public var truncatedToSeconds: Timestamp {
        Timestamp(microseconds: microseconds - microseconds.floorDivided(by: 1_000_000).remainder)
    }

    // MARK: Parsing

    /// Parses an RFC 3339 date-time; `nil` if `text` is not one (or names an impossible date).
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Timestamp.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Also accepts a bare date (`2026-03-01`, meaning its start in UTC) — for command-line
    /// options such as `--as-of` and `--since`, not for events.
    public init?(dateOrDateTime text: String) {
        if let full = Timestamp(rfc3339: text) {
            self = full
            return
        }
        guard let midnight = Timestamp(rfc3339: text + "T00:00:00Z") else { return nil }
        self = midnight
    }

    /// The parser behind `init(rfc3339:)`, on UTF-8 bytes: `EventTranscoder` reads `at` in
    /// place with it, so both ingest paths accept exactly the same times. (Public for the fuzz
    /// target in tools/fuzz, which checks that it agrees with `init(rfc3339:)`.)
    public static func parse(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
        guard b.count >= 20 else { return nil }
        // (Inlined: it runs six times for every event ingested.)
        @inline(__always) func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<start + count {
                let d = Int(b[i]) &- 48
                guard UInt(bitPattern: d) <= 9 else { return nil }
                value = value &* 10 &+ d
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), b[10] == UInt8(ascii: "T"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if b[index] == UInt8(ascii: ".") {
            index += 1
            var scale: Int64 = 100_000
            let fractionStart = index
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                micros += Int64(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        guard index < b.count else { return nil }
        var offsetSeconds = 0
        switch b[index] {
        case UInt8(ascii: "Z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == b.count, let oh = digits(index + 1, 2), b[index + 3] == UInt8(ascii: ":"),
                  let om = digits(index + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        let time = Timestamp(microseconds: seconds * 1_000_000 + micros)
        // A time is stored and shown in UTC: an offset that moves it out of the years 0000–9999
        // (`0000-01-01T00:30:00+01:00`) would give text that is not RFC 3339.
        guard time >= .earliest, time <= .latest else { return nil }
        return time
    }

    /// The first and last instants RFC 3339 can write in UTC: 0000-01-01T00:00:00Z and
    /// 9999-12-31T23:59:59.999999Z.
    public static let earliest = Timestamp(microseconds: -62_167_219_200_000_000)
    public static let latest = Timestamp(microseconds: 253_402_300_800_000_000 - 1)

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `daysFromCivil`.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: Formatting

    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, micros: Int) {
        let (days, dayMicros) = microseconds.floorDivided(by: Self.microsecondsPerDay)
        let civil = Self.civilFromDays(Int(days))
        let secondsOfDay = Int(dayMicros / 1_000_000)
        return (civil.year, civil.month, civil.day, secondsOfDay / 3600, secondsOfDay / 60 % 60, secondsOfDay % 60, Int(dayMicros % 1_000_000))
    }

    /// RFC 3339 in UTC: `2026-03-01T10:15:00Z`, `...:00.250Z`, `...:00.250125Z`.
    public var rfc3339: String {
        let c = components
        var out = "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
        if c.micros != 0 {
            out += c.micros % 1000 == 0 ? ".\(pad(c.micros / 1000, 3))" : ".\(pad(c.micros, 6))"
        }
        return out + "Z"
    }

    /// `rfc3339`'s bytes, appended without building a string (the log's stream writes two
    /// per event).
    public func writeRFC3339(into out: inout [UInt8]) {
        let c = components
        guard (0...9999).contains(c.year) else {
            out.append(contentsOf: rfc3339.utf8)
            return
        }
        @inline(__always) func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(c.year, 4); out.append(UInt8(ascii: "-")); digits(c.month, 2); out.append(UInt8(ascii: "-"))
        digits(c.day, 2); out.append(UInt8(ascii: "T")); digits(c.hour, 2); out.append(UInt8(ascii: ":"))
        digits(c.minute, 2); out.append(UInt8(ascii: ":")); digits(c.second, 2)
        if c.micros != 0 {
            out.append(UInt8(ascii: "."))
            if c.micros % 1000 == 0 { digits(c.micros / 1000, 3) } else { digits(c.micros, 6) }
        }
        out.append(UInt8(ascii: "Z"))
    }

    /// `2026-03` — the month bucket used by monthly and cohort reports.
    public var yearMonth: String {
        let c = components
        return "\(pad(c.year, 4))-\(pad(c.month, 2))"
    }

    /// The first instant (UTC) of the month `months` months before this time's month:
    /// `2026-05-14T10:00:00Z` gives `2026-05-01T00:00:00Z`, and with 12 `2025-05-01T00:00:00Z`.
    public func monthStart(monthsBefore months: Int = 0) -> Timestamp {
        let c = components
        let index = c.year * 12 + (c.month - 1) - months
        let year = index >= 0 ? index / 12 : (index - 11) / 12
        return Timestamp(rfc3339: "\(pad(year, 4))-\(pad(index - year * 12 + 1, 2))-01T00:00:00Z") ?? self
    }

    /// `2026-03-01`
    public var date: String {
        let c = components
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

extension Int64 {
    /// Floor division and a non-negative remainder (for times before 1970).
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var q = self / divisor
        var r = self % divisor
        if r < 0 {
            q -= 1
            r += divisor
        }
        return (q, r)
    }
}
