import Foundation

/// SplitMix64 (Steele, Lea and Flood): a small, fast generator whose whole sequence follows
/// from its seed, so that a test's random choices can be replayed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
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

    /// The seed for a test's random choices: `LEADLEDGER_TEST_SEED` when set (to replay a
    /// failure), else one from the clock (so that runs differ). Throws on a value that is not
    /// a number, rather than silently using another seed.
    public static func testSeed() throws -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["LEADLEDGER_TEST_SEED"] {
            guard let seed = UInt64(text.trimmingCharacters(in: .whitespaces)) else {
                throw InvalidSeed(text: text)
            }
            return seed
        }
        return UInt64(Date().timeIntervalSince1970 * 1_000_000)
    }

    public struct InvalidSeed: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "LEADLEDGER_TEST_SEED=\(text) is not an unsigned 64-bit integer" }
    }
}
