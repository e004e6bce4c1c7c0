import EventLog
import Testing

@Suite("ByteHash: hashing and comparing short keys")
struct ByteHashTests {
    /// Every byte of a value counts in its hash, at every length (below eight bytes the value
    /// is read as two overlapping words, or as three sampled bytes).
    @Test func changingAnyByteChangesTheHash() {
        var random = SystemRandomNumberGenerator()
        for count in 0..<70 {
            let value = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            let hash = value.withUnsafeBytes { ByteHash.of($0) }
            for index in 0..<count {
                var changed = value
                changed[index] ^= 0x20
                #expect(changed.withUnsafeBytes { ByteHash.of($0) } != hash, "length \(count), byte \(index)")
            }
            // The length counts too: a zero byte more is another value.
            #expect((value + [0]).withUnsafeBytes { ByteHash.of($0) } != hash, "length \(count) and one zero byte more")
        }
    }

    @Test func equalAgreesWithComparingTheBytes() {
        var random = SystemRandomNumberGenerator()
        for count in 0..<70 {
            let value = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            for index in -1..<count {
                var other = value
                if index >= 0 { other[index] &+= 1 }
                let equal = value.withUnsafeBytes { a in
                    other.withUnsafeBytes { b in ByteHash.equal(a.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: count) }
                }
                #expect(equal == (value == other), "length \(count), byte \(index) changed")
            }
        }
    }
}
