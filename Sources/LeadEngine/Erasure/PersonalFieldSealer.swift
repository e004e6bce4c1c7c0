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

    func makeDurable(through mark: UInt64) throws {
        try keys.flush(through: mark)
    }

    func seal(_ batch: PendingBatch) throws -> (batch: PendingBatch?, durability: UInt64) {
        var rewritten: [(index: Int, payload: [UInt8])] = []
        var generation: UInt64 = 0
        try batch.forEachView { index, view in
            if let payload = try sealed(view.payload, stream: view.stream, generation: &generation) { rewritten.append((index, payload)) }
        }
        guard !rewritten.isEmpty else { return (nil, generation) }
        var out = PendingBatch(reservingRecords: batch.count, bytes: batch.byteCount + rewritten.count * 96)
        var next = 0
        batch.forEachView { index, view in
            let replacement: [UInt8]?
            if next < rewritten.count, rewritten[next].index == index {
                replacement = rewritten[next].payload
                next += 1
            } else {
                replacement = nil
            }
            guard let payload = replacement else {
                if view.attachment == nil, view.expectedVersion == nil {
                    out.append(id: view.id, stream: view.stream, payload: view.payload)
                } else {
                    out.append(view.copy())
                }
                return
            }
            // The projection reads an attached event instead of the payload: it must see what
            // is stored (sealed values), never the plaintext.
            var attachment = view.attachment
            if let decoded = DecodedEvent.of(view.attachment),
               let event = try? payload.withUnsafeBytes({ try EventCodec.decode($0, id: view.idString, lead: view.streamString) }) {
                var event = event
                event.lead = decoded.event.lead
                attachment = DecodedEvent(event, route: decoded.route)
            }
            out.append(PendingRecord(
                id: view.idString, stream: view.streamString, payload: payload, expectedVersion: view.expectedVersion, attachment: attachment))
        }
        out.isSealed = true
        return (out, generation)
    }

    /// A payload with its personal fields sealed with `stream`'s key, or `nil` if it has none.
    /// `generation`: the newest key used so far (see `LeadKeyStore.flush(through:)`).
    func sealed(_ payload: UnsafeRawBufferPointer, stream: UnsafeRawBufferPointer, generation: inout UInt64) throws -> [UInt8]? {
        var newest = generation
        defer { generation = newest }
        return try EventCodec.sealingPersonalFields(payload, personal: keys.personal) { plain in
            // (An erased stream's later personal fields are sealed with a key nobody keeps:
            // they read as erased, like the rest of the lead's.)
            let key: SymmetricKey
            if let found = try keys.sealingKey(for: String(decoding: stream, as: UTF8.self)) {
                key = found.key
                newest = max(newest, found.generation)
            } else {
                key = SymmetricKey(size: .bits256)
            }
            guard let box = try AES.GCM.seal(plain, using: key, nonce: Nonces.next(), authenticating: stream).combined else {
                throw KeyStoreError.damaged(keys.path, "could not seal a value of \(String(decoding: stream, as: UTF8.self))")
            }
            return (stream, Array(box))
        }
    }
}

/// AES-GCM nonces without a system call each: 12 random bytes drawn once per process, the
/// last 8 of them XORed with a counter. Unique for every value this process seals; two
/// processes (a writer after a restart) collide only if their random bytes happen to differ
/// by exactly a counter value both reach — about 2^-64 per pair.
enum Nonces {
    static let base: [UInt8] = SymmetricKey(size: .bits128).withUnsafeBytes { Array($0.prefix(12)) }
    static let counter = Atomic<UInt64>(0)

    static func next() throws -> AES.GCM.Nonce {
        let count = counter.add(1, ordering: .relaxed).newValue
        var bytes = base
        for index in 0..<8 { bytes[4 + index] ^= UInt8(truncatingIfNeeded: count >> (8 * index)) }
        return try AES.GCM.Nonce(data: bytes)
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
