internal import CByteScan
import LeadEngine
import Testing

/// `leadledger_quote_bits`, the fast path's first pass over a line, against a byte-by-byte
/// reading of its contract.
@Suite("Quote bits: where a line's quotes are, and whether it is plain")
struct QuoteBitsTests {
    /// The contract, a byte at a time: the quote bits, or nil when a byte is not plain.
    static func reference(_ bytes: [UInt8]) -> [UInt64]? {
        var bits = [UInt64](repeating: 0, count: (bytes.count + 63) / 64)
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte > 0x7F { return nil }
            if byte == UInt8(ascii: "\"") { bits[index / 64] |= 1 << UInt64(index % 64) }
        }
        return bits
    }

    static func quoteBits(_ bytes: [UInt8]) -> [UInt64]? {
        // (Words filled with garbage first: every word must be written.)
        var bits = [UInt64](repeating: 0xDEAD_BEEF_DEAD_BEEF, count: (bytes.count + 63) / 64)
        let plain = bytes.withUnsafeBufferPointer { input in
            bits.withUnsafeMutableBufferPointer { leadledger_quote_bits(input.baseAddress, input.count, $0.baseAddress) }
        }
        return plain != 0 ? bits : nil
    }

    @Test func randomLinesOfEveryLengthAgreeWithTheByteByByteReading() {
        var random = SeededRandom(seed: 64)
        // Mostly plain text with quotes, now and then a byte that spoils the line.
        let plain = Array(#"abc "{}:,0129 "#.utf8) + [0x20, 0x7E, 0x7F, 0x21]
        let spoilers: [UInt8] = [0x5C, 0x00, 0x09, 0x0A, 0x0D, 0x1F, 0x80, 0xC3, 0xFF]
        var spoiled = 0
        for length in 0...300 {
            for _ in 0..<20 {
                var bytes = (0..<length).map { _ in plain[Int.random(in: 0..<plain.count, using: &random)] }
                if length > 0, Int.random(in: 0..<4, using: &random) == 0 {
                    bytes[Int.random(in: 0..<length, using: &random)] = spoilers[Int.random(in: 0..<spoilers.count, using: &random)]
                    spoiled += 1
                }
                let expected = Self.reference(bytes)
                let found = Self.quoteBits(bytes)
                #expect(found == expected, "length \(length): \(bytes)")
            }
        }
        #expect(spoiled > 1_000)
    }

    @Test func aSpoilingByteIsFoundAtEveryOffset() {
        for length in [1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200] {
            for position in 0..<length {
                for byte: UInt8 in [0x5C, 0x00, 0x1F, 0x80, 0xFF] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "\""), count: length)
                    bytes[position] = byte
                    #expect(Self.quoteBits(bytes) == nil, "byte \(byte) at \(position) of \(length)")
                }
            }
        }
    }
}
