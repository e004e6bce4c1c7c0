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
            var word: UInt64 = 0
            for index in 0..<bytes.count { word = word << 8 | UInt64(base.load(fromByteOffset: index, as: UInt8.self)) }
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
}
