/// A 64-bit hash of bytes for in-memory tables only (never stored, so it may change): eight
/// bytes at a time, the last eight overlapping the ones before when the length is not a
/// multiple of eight. The log's id overlays, the dimension dictionaries and the replay shards
/// all hash short keys (ids, leads, channel names) on every record.
public enum ByteHash {
    @inlinable
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* multiplier
            hash ^= hash >> 29
        }
        guard let base = bytes.baseAddress else { return hash }
        if bytes.count < 8 {
            // Without a loop (channel names are mostly shorter than eight bytes): two
            // overlapping four-byte words, or the first, middle and last byte. The length is
            // in the hash already, so overlaps do not confuse two values.
            let count = bytes.count
            let word: UInt64
            if count >= 4 {
                word = UInt64(base.loadUnaligned(as: UInt32.self))
                    | UInt64(base.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)) << 32
            } else if count > 0 {
                word = UInt64(base.load(as: UInt8.self))
                    | UInt64(base.load(fromByteOffset: count / 2, as: UInt8.self)) << 8
                    | UInt64(base.load(fromByteOffset: count - 1, as: UInt8.self)) << 16
            } else {
                word = 0
            }
            mix(word)
            return hash
        }
        var offset = 0
        while offset + 8 <= bytes.count {
            mix(base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count { mix(base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) }
        return hash
    }

    /// Whether `count` bytes at `a` and `b` are equal, compared a word at a time (for the
    /// short keys the tables above hash, where calling `memcmp` costs more than comparing).
    @inlinable
    public static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        if count >= 8 {
            var offset = 0
            while offset + 8 <= count {
                if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                    return false
                }
                offset += 8
            }
            return offset == count
                || a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        if count >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        }
        for index in 0..<count where a.load(fromByteOffset: index, as: UInt8.self) != b.load(fromByteOffset: index, as: UInt8.self) {
            return false
        }
        return true
    }
}
