import LMDB

/// Where new ids are told apart without a look-up: a range of id keys in which no key is
/// stored or prepared. Ids usually arrive in order (generated and exported data), so nearly
/// every id falls just above the last one, inside the gap — also when a few keys sort above
/// them all (a published rules version's `rules:…` above `L-…` leads): the first id after
/// such a jump is looked up, and the gap moves there (`move(above:successor:)`).
///
/// Used by the writer's sequencer thread only. (Buffers rather than arrays: the lower bound is
/// replaced for nearly every record, and an array's `removeAll` and `append(contentsOf:)` cost
/// more than the copy.)
final class IDGap {
    /// No key stored or prepared lies strictly between `lower` and `upper` (none at all above
    /// `lower` when `hasUpper` is false), when `isKnown`.
    @exclusivity(unchecked) private var lower = ByteBuffer(capacity: 256)
    @exclusivity(unchecked) private var upper = ByteBuffer(capacity: 256)
    @exclusivity(unchecked) private(set) var hasUpper = false
    @exclusivity(unchecked) private(set) var isKnown = false

    /// Whether `key` falls in the gap: then it is a new id, and with no upper bound it also
    /// sorts after every stored key (it is indexed by appending).
    @inline(__always)
    func contains(_ key: UnsafeRawBufferPointer) -> Bool {
        isKnown && KeyOrder.compare(key, lower.bytes) > 0 && (!hasUpper || KeyOrder.compare(key, upper.bytes) < 0)
    }

    /// With nothing in flight: the gap is everything above the greatest stored key.
    func start(above greatest: [UInt8]?) {
        (greatest ?? []).withUnsafeBytes { lower.replace(with: $0) }
        hasUpper = false
        isKnown = true
    }

    /// A key in the gap was taken: the gap now starts above it.
    @inline(__always)
    func take(_ key: UnsafeRawBufferPointer) {
        lower.replace(with: key)
    }

    /// After a looked-up key that turned out new, with nothing prepared between it and the
    /// first stored key after it (`successor`, if any): the gap moves to lie between them.
    func move(above key: UnsafeRawBufferPointer, successor: UnsafeRawBufferPointer?) {
        lower.replace(with: key)
        hasUpper = successor != nil
        if let successor { upper.replace(with: successor) }
        isKnown = true
    }

    /// What the gap knew may be stale (another path indexed ids, or a commit failed): it is
    /// learnt again from the next snapshot.
    func forget() {
        isKnown = false
    }
}
