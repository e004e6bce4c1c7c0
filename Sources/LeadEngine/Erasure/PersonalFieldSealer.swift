import Crypto
import EventLog
import Foundation
import LeadDomain
import Synchronization

/// Seals the personal fields of records on their way into the log (`EventLog.setSealer`):
/// each value with its stream's key (AES-GCM, the key id as associated data), an `email`
/// leaving its domain in plaintext beside it (`emailDomain`). Records without a personal
/// field are copied as they are; a batch without any is not copied at all. The keys made
/// for a batch are made durable (`makeDurable`) before it is committed.
struct PersonalFieldSealer: BatchSealer {
    let keys: LeadKeyStore
    /// Batches rewritten before, whose memory a large batch is rewritten into (a bulk
    /// ingest's batches are megabytes: fresh memory costs a page fault per page).
    let spares = SpareBatches()

    func recycle(_ batch: PendingBatch) {
        if batch.count >= SpareBatches.minimumRecords { spares.put(batch) }
    }

    func makeDurable(through mark: UInt64) throws {
        try keys.flush(through: mark)
    }

    func seal(_ batch: PendingBatch) throws -> (batch: PendingBatch?, durability: UInt64) {
        var sealing = EventCodec.PersonalFieldSealing()
        var generation: UInt64 = 0
        var keyCache = KeyCache()
        // The batch rewritten, from the first record that has a personal field: the records
        // before each such record are copied a run at a time, the sealed one written in place.
        var out = PendingBatch()
        var started = false
        var copied = 0
        try batch.forEachView { index, view in
            guard try sealing.scan(view.payload, personal: keys.personal) else { return }
            try seal(&sealing, stream: view.stream, generation: &generation, cache: &keyCache)
            if !started {
                started = true
                if batch.count >= SpareBatches.minimumRecords, let spare = spares.take() {
                    out = spare
                    out.removeAll()
                } else {
                    out = PendingBatch(reservingRecords: batch.count, bytes: batch.byteCount + batch.byteCount / 4)
                }
            }
            out.append(contentsOf: batch, records: copied..<index)
            copied = index + 1
            if view.attachment == nil, view.expectedVersion == nil {
                out.append(id: view.id, stream: view.stream, payloadCapacity: sealing.sealedSize(payload: view.payload, keyID: view.stream)) { memory in
                    var sink = ReservedBytes(memory)
                    sealing.write(view.payload, keyID: view.stream, into: &sink)
                    return sink.count
                }
                return
            }
            var payload: [UInt8] = []
            sealing.write(view.payload, keyID: view.stream, into: &payload)
            // The projection reads an attached event instead of the payload: it must see what
            // is stored (sealed values), never the plaintext. Without one (should the sealed
            // payload not decode) it reads the stored payload.
            var attachment = view.attachment
            if let decoded = DecodedEvent.of(view.attachment) {
                attachment = nil
                if var event = try? payload.withUnsafeBytes({ try EventCodec.decode($0, id: view.idString, lead: view.streamString) }) {
                    event.lead = decoded.event.lead
                    attachment = DecodedEvent(event, route: decoded.route)
                }
            }
            out.append(PendingRecord(
                id: view.idString, stream: view.streamString, payload: payload, expectedVersion: view.expectedVersion, attachment: attachment))
        }
        guard started else { return (nil, generation) }
        out.append(contentsOf: batch, records: copied..<batch.count)
        out.isSealed = true
        return (out, generation)
    }

    /// Seals the values `sealing` scanned with `stream`'s key into its `box`. `generation`:
    /// the newest key used so far (see `LeadKeyStore.flush(through:)`).
    func seal(
        _ sealing: inout EventCodec.PersonalFieldSealing, stream: UnsafeRawBufferPointer, generation: inout UInt64, cache: inout KeyCache
    ) throws {
        // (An erased stream's later personal fields are sealed with a key nobody keeps:
        // they read as erased, like the rest of the lead's.)
        let key: SymmetricKey
        if let found = try cache.key(for: stream, in: keys) {
            key = found.key
            generation = max(generation, found.generation)
        } else {
            key = SymmetricKey(size: .bits256)
        }
        let box = try sealing.plain.withUnsafeBytes { plain in try AES.GCM.seal(plain, using: key, nonce: Nonces.next(), authenticating: stream) }
        guard let combined = box.combined else {
            throw KeyStoreError.damaged(keys.path, "could not seal a value of \(String(decoding: stream, as: UTF8.self))")
        }
        sealing.box.removeAll(keepingCapacity: true)
        combined.withUnsafeBytes { sealing.box.append(contentsOf: $0) }
    }
}

/// Batches kept for their memory (see `PersonalFieldSealer.spares`).
final class SpareBatches: Sendable {
    /// Smaller batches (a server's requests) are neither kept nor given one.
    static let minimumRecords = 1024
    private let batches = Mutex<[PendingBatch]>([])

    func take() -> PendingBatch? {
        batches.withLock { $0.popLast() }
    }

    func put(_ batch: PendingBatch) {
        batches.withLock { if $0.count < 4 { $0.append(batch) } }
    }
}

/// The key a batch used last (a lead's events often come one after another): no lookup in
/// the key store, nor its lock, for the next record of the same stream.
struct KeyCache {
    private var stream: [UInt8] = []
    private var key: LeadKeyStore.SealingKey?
    private var erased = false

    mutating func key(for stream: UnsafeRawBufferPointer, in keys: LeadKeyStore) throws -> LeadKeyStore.SealingKey? {
        if key != nil || erased, self.stream.elementsEqual(stream) { return key }
        key = try keys.sealingKey(for: String(decoding: stream, as: UTF8.self))
        erased = key == nil
        self.stream.removeAll(keepingCapacity: true)
        self.stream.append(contentsOf: stream)
        return key
    }
}

/// AES-GCM nonces without a system call each: 12 random bytes drawn once per process, the
/// last 8 of them XORed with a counter. Unique for every value this process seals; two
/// processes (a writer after a restart) collide only if their random bytes happen to differ
/// by exactly a counter value both reach — about 2^-64 per pair.
enum Nonces {
    /// The random bytes: the first 4, and the last 8 (little-endian), which the counter changes.
    static let base: (head: UInt32, tail: UInt64) = SymmetricKey(size: .bits128).withUnsafeBytes {
        ($0.loadUnaligned(as: UInt32.self), UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
    }
    static let counter = Atomic<UInt64>(0)

    static func next() throws -> AES.GCM.Nonce {
        let count = counter.add(1, ordering: .relaxed).newValue
        // (Built on the stack: a nonce's 12 bytes then cost no allocation.)
        var bytes: (UInt32, UInt32, UInt32) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &bytes) { bytes in
            bytes.storeBytes(of: base.head, as: UInt32.self)
            bytes.storeBytes(of: (base.tail ^ count).littleEndian, toByteOffset: 4, as: UInt64.self)
            return try AES.GCM.Nonce(data: UnsafeRawBufferPointer(bytes))
        }
    }
}

/// The store's master key, which wraps every lead's key (never stored in the store).
public struct MasterKey: Sendable {
    public static let environmentVariable = "LEADLEDGER_MASTER_KEY"
    /// Its bytes (`SymmetricKey` is not `Sendable`).
    let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A key from its 32 bytes, or from their base64 (a file's text or the variable's).
    public init(bytes: [UInt8], source: String) throws {
        if bytes.count == 32 {
            self.bytes = bytes
            return
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let decoded = Data(base64Encoded: text), decoded.count == 32 else {
            throw MasterKeyError(message: "\(source) does not hold a master key: expected 32 bytes, or their base64 (e.g. `openssl rand -base64 32`)")
        }
        self.bytes = Array(decoded)
    }

    /// The key in `file`, or else in `LEADLEDGER_MASTER_KEY`; `nil` when neither is given.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MasterKey? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw MasterKeyError(message: "cannot read the master key file \(file)")
            }
            return try MasterKey(bytes: Array(data), source: "the master key file \(file)")
        }
        if let text = environment[environmentVariable], !text.isEmpty {
            return try MasterKey(bytes: Array(text.utf8), source: environmentVariable)
        }
        return nil
    }

    /// A new random key.
    public static func random() -> MasterKey {
        MasterKey(randomBytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    private init(randomBytes: [UInt8]) {
        bytes = randomBytes
    }

    /// A new random key, as base64 text (what a master key file holds).
    public static func generateBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

public struct MasterKeyError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
