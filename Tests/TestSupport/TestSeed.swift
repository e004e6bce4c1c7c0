import Foundation

/// The seed for a test's random choices (with LeadEngine's `SeededRandom`, SplitMix64):
/// `LEADLEDGER_TEST_SEED` when set (to replay a failure), else one from the clock (so that
/// runs differ). A value that is not a number is an error, rather than silently another seed.
public enum TestSeed {
    public static func fromEnvironment() throws -> UInt64 {
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
