import Foundation
import LMDB

/// A group the sequencer prepared, for the chainer to hash and the committer to store.
final class PreparedGroup: @unchecked Sendable {
    let sequence: UInt64
    /// The pipeline's epoch when it was prepared (see `Writer.epoch`).
    let epoch: UInt64
    /// (The committer lets go of their records once they are stored: see `Writer.runCommitter`.)
    @exclusivity(unchecked) var requests: [Writer.Request]
    @exclusivity(unchecked) var outcomes: [[AppendOutcome]] = []
    /// The group's records as stored, back to back, each after a few spare bytes where its
    /// hash input was assembled in place (`RecordFormat.seal(inPlace:)`).
    let bytes: ByteBuffer
    /// Where each record is in `bytes`; `appendsID` when its id key sorts after every id
    /// stored or prepared before it (it is indexed with `MDB_APPEND`).
    @exclusivity(unchecked) var entries: [(position: UInt64, offset: Int, count: Int, appendsID: Bool)] = []
    /// The group's ids (entry indexes by id), so that later groups see them before they
    /// are committed. Built only when a lookup needs it: ids often arrive in order, and an
    /// id after the group's greatest one is not in the group.
    let ids: IDOverlay
    /// How many entries `ids` holds.
    @exclusivity(unchecked) private var indexed = 0
    /// The entry with the greatest id.
    @exclusivity(unchecked) private var greatest: Int?
    /// Every id of the group is its own key (none is hashed), so ids and keys sort alike.
    @exclusivity(unchecked) private(set) var allOwnKeys = true
    @exclusivity(unchecked) var hookWrites: (@Sendable (WriteTransaction) throws -> Void)?
    /// What its sealed records depend on, made durable by the chainer before the commit
    /// (`BatchSealer.makeDurable`), and why that failed (the group then fails as if its
    /// commit had).
    @exclusivity(unchecked) var durability: (sealer: any BatchSealer, mark: UInt64)?
    @exclusivity(unchecked) var durabilityFailure: (any Error)?
    /// When the committer began its write transaction (for the commit's duration, measured
    /// until its meta page is flushed).
    @exclusivity(unchecked) var commitStarted: ContinuousClock.Instant?
    /// The hash the group's first record is chained onto (the log's tip when it commits).
    @exclusivity(unchecked) var previousHash = ChainHash.genesis

    init(sequence: UInt64, epoch: UInt64, requests: [Writer.Request], storage: (ByteBuffer, IDOverlay), records: Int) {
        self.sequence = sequence
        self.epoch = epoch
        self.requests = requests
        (bytes, ids) = storage
        entries.reserveCapacity(records)
    }

    func id(at index: Int) -> UnsafeRawBufferPointer {
        let entry = entries[index]
        return RecordFormat.id(in: UnsafeRawBufferPointer(bytes.slice(entry.offset, entry.count)))
    }

    /// Adds a laid-out record; `ownKey`: its id is its own key (`IDKey.isOwnKey`).
    func append(position: UInt64, offset: Int, count: Int, appendsID: Bool, ownKey: Bool) {
        entries.append((position, offset, count, appendsID))
        let index = entries.count - 1
        if !ownKey { allOwnKeys = false }
        // (An id indexed by appending sorts after every earlier one, if it is its own key.)
        if greatest == nil || (appendsID && ownKey) || KeyOrder.compare(id(at: index), id(at: greatest!)) > 0 {
            greatest = index
        }
    }

    /// The group's greatest id, if it has records.
    var greatestID: UnsafeRawBufferPointer? {
        greatest.map { id(at: $0) }
    }

    /// The position of the record with this id in the group, if any.
    func position(ofID id: UnsafeRawBufferPointer) -> UInt64? {
        guard let greatest, KeyOrder.compare(id, self.id(at: greatest)) <= 0 else { return nil }
        while indexed < entries.count {
            ids.insert(hash: IDOverlay.hash(self.id(at: indexed)), index: indexed)
            indexed += 1
        }
        return ids.find(hash: IDOverlay.hash(id)) { self.id(at: $0).elementsEqual(id) }.map { entries[$0].position }
    }
}

/// A growable byte buffer whose storage moves only when it grows (unlike an array's, it can
/// be written through a pointer without exclusivity checks or copies).
final class ByteBuffer: @unchecked Sendable {
    @exclusivity(unchecked) private var base: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit {
        base.deallocate()
    }

    /// Empties the buffer, keeping (or growing to) `capacity`.
    func reset(capacity: Int) {
        count = 0
        if capacity > self.capacity {
            base.deallocate()
            self.capacity = capacity
            base = .allocate(byteCount: capacity, alignment: 8)
        }
    }

    /// Adds `size` bytes (uninitialized) and returns where they start.
    func grow(by size: Int) -> Int {
        let offset = count
        if count + size > capacity {
            var next = capacity * 2
            while next < count + size { next *= 2 }
            let moved = UnsafeMutableRawPointer.allocate(byteCount: next, alignment: 8)
            moved.copyMemory(from: base, byteCount: count)
            base.deallocate()
            base = moved
            capacity = next
        }
        count += size
        return offset
    }

    func slice(_ offset: Int, _ size: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + offset, count: size)
    }

    /// What the buffer holds (valid until it next changes).
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Makes the buffer hold a copy of `bytes`.
    func replace(with bytes: UnsafeRawBufferPointer) {
        reset(capacity: bytes.count)
        if let source = bytes.baseAddress, !bytes.isEmpty {
            base.copyMemory(from: source, byteCount: bytes.count)
        }
        count = bytes.count
    }
}

/// The ids of one prepared group, for finding duplicates before the group is committed: an
/// open-addressing table from a 64-bit hash of the id to the record's entry index; a hash
/// match is confirmed against the id in the record's bytes.
final class IDOverlay: @unchecked Sendable {
    @exclusivity(unchecked) private var hashes: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var indexes: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var count = 0

    init(expected: Int) {
        capacity = Self.capacity(for: expected)
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
        indexes = .allocate(capacity: capacity)
        indexes.initialize(repeating: 0, count: capacity)
    }

    private static func capacity(for expected: Int) -> Int {
        var capacity = 64
        while capacity < expected * 2 { capacity *= 2 }
        return capacity
    }

    /// Empties the table, sized for `expected` ids.
    func reset(expected: Int) {
        let wanted = Self.capacity(for: expected)
        if wanted > capacity {
            hashes.deallocate()
            indexes.deallocate()
            capacity = wanted
            hashes = .allocate(capacity: capacity)
            indexes = .allocate(capacity: capacity)
            indexes.initialize(repeating: 0, count: capacity)
        }
        hashes.initialize(repeating: 0, count: capacity)
        count = 0
    }

    deinit {
        hashes.deallocate()
        indexes.deallocate()
    }

    /// `ByteHash`, never 0 (0 marks an empty slot).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        ByteHash.of(bytes) | 1
    }

    private func slot(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 32) & (capacity - 1)
    }

    func insert(hash: UInt64, index: Int) {
        if (count + 1) * 2 > capacity { grow() }
        var slot = slot(hash)
        while hashes[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
        hashes[slot] = hash
        indexes[slot] = Int32(index)
        count += 1
    }

    /// The index of an entry with this hash for which `matches` is true.
    func find(hash: UInt64, matches: (Int) -> Bool) -> Int? {
        var slot = slot(hash)
        while hashes[slot] != 0 {
            if hashes[slot] == hash, matches(Int(indexes[slot])) { return Int(indexes[slot]) }
            slot = (slot + 1) & (capacity - 1)
        }
        return nil
    }

    private func grow() {
        let (oldHashes, oldIndexes, oldCapacity) = (hashes, indexes, capacity)
        capacity *= 2
        hashes = .allocate(capacity: capacity)
        hashes.initialize(repeating: 0, count: capacity)
        indexes = .allocate(capacity: capacity)
        indexes.initialize(repeating: 0, count: capacity)
        count = 0
        for slot in 0..<oldCapacity where oldHashes[slot] != 0 {
            insert(hash: oldHashes[slot], index: Int(oldIndexes[slot]))
        }
        oldHashes.deallocate()
        oldIndexes.deallocate()
    }
}
