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
