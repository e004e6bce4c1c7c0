#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LMDB's default order of keys: their bytes as `memcmp` compares them, then the shorter
/// first. (Writers that sort keys before putting them, or tell from a key where it falls,
/// compare as LMDB will.)
public enum KeyOrder {
    /// LMDB's longest key (its default build: 511 bytes).
    public static let maxKeyBytes = 511

    /// Whether a key of this length can be stored at all.
    @inline(__always)
    public static func isStorable(_ key: UnsafeRawBufferPointer) -> Bool {
        key.count > 0 && key.count <= maxKeyBytes
    }

    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    @inlinable
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        let order = common == 0 ? 0 : Int(memcmp(a.baseAddress!, b.baseAddress!, common))
        return order != 0 ? order : a.count - b.count
    }
}

/// Big-endian integer keys: they sort in numeric order under LMDB's default byte comparison,
/// so sequential positions can be written with `MDB_APPEND`.
extension UInt64 {
    /// Calls `body` with the 8 big-endian bytes of `self`.
    @inlinable
    public func withBigEndianBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: self.bigEndian, body)
    }

    /// Reads a big-endian `UInt64` from the first 8 bytes of `bytes`.
    @inlinable
    public init(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= 8, "a big-endian UInt64 needs 8 bytes")
        self = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}

extension String {
    /// Calls `body` with the UTF-8 bytes of the string, without copying when it is native.
    @inlinable
    public func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
