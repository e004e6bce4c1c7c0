import ArgumentParser
import LeadDomain

/// The checks of numeric options, in one place: a number must be finite and in a range that
/// makes sense, and the refusal names the option, the range and the value given.
///
/// Numeric and time options are declared with `parsing: .unconditional`: swift-argument-parser
/// otherwise reads `--half-life -5` as the option `-5` and says the value is missing, where
/// the user should hear that it must be > 0. (The cost: `--half-life --format json` reads
/// `--format` as the value, and that is refused as not a number.)
enum OptionCheck {
    /// The longest duration any option takes: a hundred years.
    static let maximumDays = 36_500.0
    static let maximumHours = 876_000.0
    /// The largest revenue goal (`report plan --revenue`): the bound of an ingested amount.
    static let maximumRevenue = Vocabulary.maximumAmount
    /// The most leads `generate` and `demo` make (about 200 million events).
    static let leads = 1...10_000_000
    /// The most events `bench` measures.
    static let benchEvents = 100...100_000_000

    /// `value` must be in (0, maximum].
    static func positive(_ value: Double, _ option: String, atMost maximum: Double, unit: String? = nil) throws {
        guard value.isFinite, value > 0, value <= maximum else {
            throw ValidationError("\(option) must be > 0 and at most \(shown(maximum))\(unit.map { " " + $0 } ?? ""), found \(shown(value))")
        }
    }

    /// `value` must be in `range`.
    static func whole(_ value: Int, _ option: String, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound.grouped) and \(range.upperBound.grouped), found \(value)")
        }
    }

    /// A number as people write it: whole numbers grouped (`36,500`), others as Swift prints
    /// them (`0.5`, `1e+30`, `inf`, `nan`).
    static func shown(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) <= 1e15, let whole = Int(exactly: value) {
            return whole.grouped
        }
        return "\(value)"
    }
}
