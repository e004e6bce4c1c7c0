#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import EventLog
import LMDB

/// Objects keyed by a lead id, in an open-addressing table on `ByteHash` of the id's bytes:
/// a projection's cached leads. Swift's dictionary hashed the `String` id with SipHash on
/// every use (366 instructions a look-up, 780 a removal in a replay); here an id's bytes are
/// hashed once per use, each entry keeps its hash so that a probe compares words, and a
/// removal shifts the entries after it back (linear probing, no tombstones).
///
/// Not thread-safe: one projection, one thread at a time.
final class LeadTable<Value: AnyObject> {
    private struct Entry {
        var hash: UInt64
        var lead: String
        var value: Value
    }

    private var entries: UnsafeMutablePointer<Entry?>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < 2 * capacity { size *= 2 }
        self.capacity = size
        shift = UInt64(64 - size.trailingZeroBitCount)
        entries = .allocate(capacity: size)
        entries.initialize(repeating: nil, count: size)
    }

    deinit {
        entries.deinitialize(count: capacity)
        entries.deallocate()
    }

    static func hash(_ lead: UnsafeRawBufferPointer) -> UInt64 {
        ByteHash.of(lead)
    }

    private var mask: Int { capacity - 1 }
    /// 64 − log2(capacity).
    private var shift: UInt64 = 0

    /// Where a probe for `hash` starts: the top bits of the hash multiplied once more
    /// (`ByteHash`'s low bits vary too little over ids that differ only in their last bytes,
    /// such as "L-000123" and "L-000124").
    private func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value of the lead whose id is `lead` (UTF-8), hashed `hash`.
    func value(_ lead: UnsafeRawBufferPointer, hash: UInt64) -> Value? {
        var index = home(hash)
        while let entry = entries[index] {
            if entry.hash == hash && Self.equal(entry.lead, lead) { return entry.value }
            index = (index + 1) & mask
        }
        return nil
    }

    func value(_ lead: String) -> Value? {
        value(lead, hash: Self.hash(lead))
    }

    func value(_ lead: String, hash: UInt64) -> Value? {
        lead.withUTF8Bytes { value($0, hash: hash) }
    }

    static func hash(_ lead: String) -> UInt64 {
        lead.withUTF8Bytes { hash($0) }
    }

    private static func equal(_ lead: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        lead.utf8.count == bytes.count && lead.withUTF8Bytes { stored in
            stored.count == 0 || ByteHash.equal(stored.baseAddress!, bytes.baseAddress!, count: stored.count)
        }
    }

    /// Sets the value of `lead`, hashed `hash` (replacing any).
    func set(_ value: Value, for lead: String, hash: UInt64) {
        var index = home(hash)
        while let entry = entries[index] {
            if entry.hash == hash && entry.lead == lead {
                entries[index]!.value = value
                return
            }
            index = (index + 1) & mask
        }
        entries[index] = Entry(hash: hash, lead: lead, value: value)
        count += 1
        if 2 * count > capacity { grow() }
    }

    /// Removes `lead` if its value is this very object; returns whether it did.
    @discardableResult
    func remove(_ lead: String, ifItIs value: Value) -> Bool {
        let hash = Self.hash(lead)
        var index = home(hash)
        while let entry = entries[index] {
            if entry.hash == hash && entry.lead == lead {
                guard entry.value === value else { return false }
                removeEntry(at: index)
                return true
            }
            index = (index + 1) & mask
        }
        return false
    }

    /// Empties the slot at `index` and moves back the entries after it that a probe could no
    /// longer reach past the gap.
    private func removeEntry(at removed: Int) {
        var gap = removed
        var index = removed
        while true {
            index = (index + 1) & mask
            guard let entry = entries[index] else { break }
            let wanted = home(entry.hash)
            // The entry stays where it is if its home lies cyclically in (gap, index].
            let stays = gap <= index ? (gap < wanted && wanted <= index) : (gap < wanted || wanted <= index)
            if stays { continue }
            entries[gap] = entry
            gap = index
        }
        entries[gap] = nil
        count -= 1
    }

    private func grow() {
        let old = entries
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: nil, count: capacity)
        for index in 0..<oldCapacity {
            guard let entry = (old + index).move() else { continue }
            var slot = home(entry.hash)
            while entries[slot] != nil { slot = (slot + 1) & mask }
            entries[slot] = entry
        }
        old.deallocate()
    }

    /// Every lead and its value, in no particular order.
    var all: [(lead: String, value: Value)] {
        (0..<capacity).compactMap { index in entries[index].map { ($0.lead, $0.value) } }
    }

    func removeAll() {
        for index in 0..<capacity where entries[index] != nil { entries[index] = nil }
        count = 0
    }
}

/// The lead last looked up by its id's bytes, and its value: a lead's events often come in
/// runs, and a hit spares hashing the id. The id is copied over in place when it has the
/// length of the one before (a store's ids mostly do): a new array per look-up that missed
/// was an allocation each.
struct RecentLead<Value: AnyObject> {
    private(set) var value: Value?
    private var lead: [UInt8] = []

    /// The value remembered for exactly these id bytes, if any.
    @inline(__always)
    func value(_ bytes: UnsafeRawBufferPointer) -> Value? {
        guard let value, lead.hasSameBytes(as: bytes) else { return nil }
        return value
    }

    /// Remembers `value` as the lead's (nil: forgets).
    mutating func remember(_ value: Value?, as bytes: UnsafeRawBufferPointer) {
        self.value = value
        guard value != nil else { return }
        if lead.count == bytes.count {
            lead.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
        } else {
            lead = Array(bytes)
        }
    }

    mutating func forget() {
        value = nil
    }
}

extension Array where Element == UInt8 {
    /// Whether these are exactly `bytes` (an id or a value kept as bytes, against one read in
    /// place).
    @inline(__always)
    func hasSameBytes(as bytes: UnsafeRawBufferPointer) -> Bool {
        count == bytes.count && (isEmpty || withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
    }
}
