import Crypto
import Dispatch
import Foundation
import LeadDomain
import LedgerSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The keys that seal each stream's personal fields (crypto-shredding, `lead erase`), kept
/// apart from the log in `lead-keys.dat` in the store directory, each wrapped (AES-GCM) by
/// the store's master key, which is never stored.
///
/// The file: a header (magic `LLKEYS1\n`, a u32 LE length, then a box of 32 zero bytes under
/// the master key — a wrong master key fails to open it — and the personal field names as a
/// varint count and varint-length strings), then records, each a u32 LE length and a body:
/// kind 1, the stream id (varint length and bytes) and its wrapped key (60 bytes); kind 3,
/// a chunk of keys wrapped together: a varint count, the stream ids (each varint length and
/// bytes), then one box of their keys one after another (nonce ‖ 32 bytes a key ‖ tag, the
/// record's bytes before the box as associated data); or kind 2, the stream id, the erasure's
/// time (i64 LE microseconds) and reason (varint-length UTF-8): a destroyed key, so that
/// later personal fields of that stream are not kept either.
///
/// New keys are appended and flushed (`fsync`) before any log commit uses them, the keys of
/// a flush wrapped in chunks (one AES-GCM call per chunk, not per key). Erasing rewrites the
/// whole file without the key into `lead-keys.dat.tmp` — the other keys of its chunk wrapped
/// again in a new chunk, which needs the master key — flushes it and renames it over the old
/// one: no byte of the key is left in any file of the store (the old file's blocks belong to
/// no file). A process that read the file before keeps what it read until
/// it reopens the store; readers reload the file when it changed (another inode or size),
/// and a torn last record (read while it is appended) is ignored until it is complete.
public final class LeadKeyStore: Sendable {
    public static let fileName = "lead-keys.dat"
    static let magic = Array("LLKEYS1\n".utf8)
    static let checkContext = Array("leadledger master key check".utf8)

    public let path: String
    public let personal: PersonalFields
    /// The master key's bytes (`SymmetricKey` is not `Sendable`).
    private let masterBytes: [UInt8]?
    /// The master key, made once (it wraps every new key).
    private let masterKey: SealingKey?
    private var master: SymmetricKey? { masterKey?.key }
    /// The file's header as read (kept by a rewrite, which needs no master key).
    private let header: [UInt8]
    private let state: Mutex<State>
    /// Held while keys are written and flushed, and while the file is rewritten.
    private let flushing = Mutex(())

    enum Entry {
        /// `key`: the unwrapped key, once used.
        case key(wrapped: Wrapped, key: SealingKey?)
        case erased(Erasure)
    }

    /// Where a key's wrapped form is.
    enum Wrapped {
        /// A key made since the last flush (its `SealingKey.wrapped` says where it went).
        case none
        /// A record of its own (kind 1).
        case single([UInt8])
        /// The `index`th key of a chunk (kind 3).
        case chunk(KeyChunk, index: Int)
    }

    /// Keys wrapped together (a record of kind 3).
    final class KeyChunk: @unchecked Sendable {
        let streams: [String]
        /// Nonce ‖ ciphertext ‖ tag.
        let box: [UInt8]
        /// The keys, once opened (a reader opens a chunk once, not once per key).
        private let opened = Mutex<[UInt8]?>(nil)

        init(streams: [String], box: [UInt8]) {
            self.streams = streams
            self.box = box
        }

        /// Most keys in one chunk: an erasure wraps the rest of its chunk again.
        static let maximumKeys = 1024

        /// The record's bytes before the box: the count and the stream ids (the box's
        /// associated data, which ties each key to its stream).
        static func prefix(_ streams: [String]) -> [UInt8] {
            var out: [UInt8] = [3]
            EventCodec.writeVarint(streams.count, into: &out)
            for stream in streams {
                EventCodec.writeVarint(stream.utf8.count, into: &out)
                out.append(contentsOf: stream.utf8)
            }
            return out
        }

        /// Wraps `keys` (32 bytes each, in the order of `streams`) under `master`.
        static func seal(streams: [String], keys: [UInt8], master: SymmetricKey) throws -> KeyChunk {
            let prefix = Self.prefix(streams)
            let box = try keys.withUnsafeBytes { plain in
                try prefix.withUnsafeBytes { try AES.GCM.seal(plain, using: master, nonce: Nonces.next(), authenticating: $0) }
            }
            return KeyChunk(streams: streams, box: Array(box.combined ?? Data()))
        }

        /// The record (kind 3), length-prefixed, appended to `out`.
        func appendRecord(to out: inout [UInt8]) {
            let body = Self.prefix(streams) + box
            withUnsafeBytes(of: UInt32(body.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: body)
        }

        /// The `index`th key.
        func key(_ index: Int, master: SymmetricKey, path: String) throws -> [UInt8] {
            try opened.withLock { opened in
                if opened == nil {
                    do {
                        let sealed = try AES.GCM.SealedBox(combined: box)
                        opened = Array(try AES.GCM.open(sealed, using: master, authenticating: Self.prefix(streams)))
                    } catch {
                        throw KeyStoreError.damaged(path, "the keys of \(streams.first ?? "?") and \(streams.count - 1) more do not open with the master key")
                    }
                }
                guard let keys = opened, keys.count >= (index + 1) * 32 else { throw KeyStoreError.damaged(path, "a chunk of keys is short") }
                return Array(keys[index * 32..<(index + 1) * 32])
            }
        }
    }

    /// When and why a stream's key was destroyed.
    public struct Erasure: Sendable, Equatable {
        public var at: Timestamp
        public var reason: String
    }

    struct State: @unchecked Sendable {
        var entries: [String: Entry] = [:]
        /// Records appended since the last flush.
        var pending: [UInt8] = []
        /// The file as last read: its inode and size.
        var identity: (inode: UInt64, size: Int) = (0, 0)
        /// The open file (writers only), appended to.
        var descriptor: Int32 = -1
        /// When a reader last looked whether the file changed (`DispatchTime` nanoseconds).
        var checkedAt: UInt64 = 0
        /// Keys made by this process (each key's `generation` is the count when it was made),
        /// and how many of them are durable.
        var created: UInt64 = 0
        var durable: UInt64 = 0
        /// Random bytes for new keys, drawn 64 KiB at a time into the same buffer (a system
        /// call per key cost more than the rest of making it), and how many of them are used.
        var random: [UInt8] = []
        var randomUsed = 0
        /// The keys made since the last flush, to wrap and append then.
        var fresh: [(stream: String, key: SealingKey)] = []
    }

    /// A stream's key, unwrapped (a class: `SymmetricKey` is not `Sendable`, and a key is
    /// made once and shared by the threads that seal).
    final class SealingKey: @unchecked Sendable {
        let key: SymmetricKey
        /// Which of this process's new keys it is (0: read from the file, durable).
        let generation: UInt64
        /// A new key's chunk, once flushed (under the state's lock; the entry keeps where a
        /// key read from the file is).
        var wrapped: Wrapped = .none

        init(_ bytes: some ContiguousBytes, generation: UInt64) {
            key = SymmetricKey(data: bytes)
            self.generation = generation
        }
    }

    /// How often a reader looks whether the file changed (an erasure by the writer, in
    /// another process) while it finds every key it needs.
    static let recheckNanoseconds: UInt64 = 500_000_000

    /// Opens the key store of the store in `directory`: creates it when `create` (a writer
    /// given a master key; `personal` is recorded then), else reads it. `master` nil: a
    /// reader without the master key (personal fields read as locked).
    init(directory: String, master given: MasterKey?, create: Bool, writable: Bool, personal: PersonalFields) throws {
        path = directory + "/" + Self.fileName
        self.masterBytes = given?.bytes
        self.masterKey = given.map { SealingKey($0.bytes, generation: 0) }
        let master = given?.key
        var state = State()
        if !FileManager.default.fileExists(atPath: path) {
            guard create, let master else { throw KeyStoreError.noKeyStore(path) }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.writeFile(path, header: Self.header(master: master, personal: personal), records: [])
        }
        let contents = try Self.read(path)
        let parsed = try Self.parse(contents.bytes, path: path)
        self.personal = parsed.personal
        self.header = Array(contents.bytes[..<parsed.headerEnd])
        if let master {
            guard Self.opens(parsed.check, master: master) else { throw KeyStoreError.wrongMasterKey(path) }
        }
        state.entries = parsed.entries
        state.identity = (contents.inode, parsed.validSize)
        if writable {
            // (Room for a bulk ingest's leads: growing the table rehashes every key under the
            // lock the sealing threads take.)
            state.entries.reserveCapacity(max(state.entries.count * 2, 1 << 16))
            // (A torn last record — a crash while appending — goes before anything is appended.)
            if parsed.validSize < contents.bytes.count { truncate(path, off_t(parsed.validSize)) }
            let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw KeyStoreError.io(path, errno) }
            state.descriptor = descriptor
        }
        self.state = Mutex(state)
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    /// Whether a master key was given (personal fields can be sealed and opened).
    public var hasMasterKey: Bool { masterBytes != nil }

    // MARK: Keys

    /// The key that seals `stream`'s personal fields: its own, made (and queued for the next
    /// `flush`) on first use. `nil` once the stream's key was destroyed.
    func sealingKey(for stream: String) throws -> SealingKey? {
        try state.withLock { state in
            switch state.entries[stream] {
            case .erased?:
                return nil
            case .key(_, let key?)?:
                return key
            case .key(let wrapped, nil)?:
                guard let master else { throw KeyStoreError.missingMasterKey(path) }
                let key = SealingKey(try unwrap(wrapped, stream: stream, master: master), generation: 0)
                state.entries[stream] = .key(wrapped: wrapped, key: key)
                return key
            case nil:
                guard master != nil else { throw KeyStoreError.missingMasterKey(path) }
                if state.randomUsed == state.random.count {
                    if state.random.isEmpty { state.random = [UInt8](repeating: 0, count: Self.randomPool) }
                    try Self.fillRandom(&state.random)
                    state.randomUsed = 0
                }
                let key = state.random.withUnsafeBytes { random in
                    SealingKey(UnsafeRawBufferPointer(rebasing: random[state.randomUsed..<state.randomUsed + 32]), generation: state.created + 1)
                }
                state.randomUsed += 32
                state.created += 1
                // (Wrapped under the master key when flushed, outside this lock.)
                state.entries[stream] = .key(wrapped: .none, key: key)
                state.fresh.append((stream, key))
                return key
            }
        }
    }

    /// Makes the keys made so far durable, unless every key up to `generation` already is
    /// (before the log commit that uses them; threads that sealed with a key another made
    /// wait for it here too). The keys are wrapped and written, and the file flushed, under
    /// `flushing` alone: the threads that seal go on finding and making keys meanwhile.
    func flush(through generation: UInt64) throws {
        guard generation > 0 else { return }
        try flushing.withLock { _ in
            guard state.withLock({ $0.durable < generation }) else { return }
            try flushFresh()
        }
    }

    /// Wraps, appends and flushes the keys made since the last flush (`flushing` held).
    private func flushFresh() throws {
        let (fresh, descriptor, created) = state.withLock { state in
            defer { state.fresh.removeAll(keepingCapacity: true) }
            return (state.fresh, state.descriptor, state.created)
        }
        guard !fresh.isEmpty else {
            state.withLock { $0.durable = max($0.durable, created) }
            return
        }
        guard descriptor >= 0 else { throw KeyStoreError.readOnly(path) }
        guard let master else { throw KeyStoreError.missingMasterKey(path) }
        var records: [UInt8] = []
        var chunks: [KeyChunk] = []
        do {
            records.reserveCapacity(fresh.count * 48 + 64)
            var start = 0
            var plain: [UInt8] = []
            while start < fresh.count {
                let end = min(start + KeyChunk.maximumKeys, fresh.count)
                plain.removeAll(keepingCapacity: true)
                for index in start..<end { fresh[index].key.key.withUnsafeBytes { plain.append(contentsOf: $0) } }
                let chunk = try KeyChunk.seal(streams: fresh[start..<end].map { $0.stream }, keys: plain, master: master)
                chunk.appendRecord(to: &records)
                chunks.append(chunk)
                start = end
            }
            try records.withUnsafeBytes { bytes in try Self.writeAll(descriptor, bytes, path: path) }
            guard fsync(descriptor) == 0 else { throw KeyStoreError.io(path, errno) }
        } catch {
            // (Not durable: they are flushed again with the next keys, or fail that flush too.)
            state.withLock { $0.fresh.insert(contentsOf: fresh, at: 0) }
            throw error
        }
        state.withLock { state in
            state.identity.size += records.count
            for (number, chunk) in chunks.enumerated() {
                let first = number * KeyChunk.maximumKeys
                for index in chunk.streams.indices { fresh[first + index].key.wrapped = .chunk(chunk, index: index) }
            }
            state.durable = max(state.durable, created)
        }
    }

    /// The key `wrapped` holds (the master key given).
    private func unwrap(_ wrapped: Wrapped, stream: String, master: SymmetricKey) throws -> [UInt8] {
        switch wrapped {
        case .single(let bytes): return try Self.unwrap(bytes, stream: stream, master: master, path: path)
        case .chunk(let chunk, let index): return try chunk.key(index, master: master, path: path)
        case .none: throw KeyStoreError.damaged(path, "the key of \(stream) was never written")
        }
    }

    /// Opens a sealed value.
    func open(keyID: String, box: UnsafeRawBufferPointer) -> OpenedValue {
        let found: Entry? = state.withLock { state in
            let now = DispatchTime.now().uptimeNanoseconds
            if state.descriptor < 0, state.entries[keyID] == nil || now - state.checkedAt > Self.recheckNanoseconds {
                state.checkedAt = now
                reloadIfChanged(&state)
            }
            return state.entries[keyID]
        }
        switch found {
        case nil, .erased?:
            // (No key and no erasure: a key that never became durable; nothing can open it.)
            return .erased
        case .key(let wrapped, let cached)?:
            var key = cached
            if key == nil {
                guard let master else { return .locked }
                guard let bytes = try? unwrap(wrapped, stream: keyID, master: master) else { return .locked }
                let unwrapped = SealingKey(bytes, generation: 0)
                state.withLock { $0.entries[keyID] = .key(wrapped: wrapped, key: unwrapped) }
                key = unwrapped
            }
            guard let key, let sealed = try? AES.GCM.SealedBox(combined: Data(box)),
                  let plain = try? AES.GCM.open(sealed, using: key.key, authenticating: Array(keyID.utf8)) else {
                return .erased
            }
            return .plain(Array(plain))
        }
    }

    /// The erasure of `stream`'s key, if it was erased.
    public func erasure(of stream: String) -> Erasure? {
        state.withLock { state in
            if case .erased(let erasure)? = state.entries[stream] { return erasure }
            reloadIfChanged(&state)
            if case .erased(let erasure)? = state.entries[stream] { return erasure }
            return nil
        }
    }

    /// Whether `stream` has a key (tests look for its bytes in the store's files).
    package func rawKey(of stream: String) throws -> [UInt8]? {
        guard let master else { return nil }
        return try state.withLock { state -> [UInt8]? in
            guard case .key(let wrapped, let key)? = state.entries[stream] else { return nil }
            if let key { return key.key.withUnsafeBytes { Array($0) } }
            return try unwrap(wrapped, stream: stream, master: master)
        }
    }

    // MARK: Erasing

    /// Destroys the keys of `streams`: the file is rewritten without them (with an erasure
    /// record each) and renamed over the old one. Returns the streams that had a key.
    @discardableResult
    func erase(_ streams: [String], erasure: Erasure) throws -> [String] {
        // (The other keys of an erased key's chunk are wrapped again.)
        guard master != nil else { throw KeyStoreError.missingMasterKey(path) }
        return try flushing.withLock { _ in
            try flushFresh()
            return try erased(streams, erasure: erasure)
        }
    }

    /// `erase`, with every key made so far written.
    private func erased(_ streams: [String], erasure: Erasure) throws -> [String] {
        try state.withLock { state in
            var destroyed: [String] = []
            for stream in streams {
                if case .key? = state.entries[stream] { destroyed.append(stream) }
                if case .erased? = state.entries[stream] { continue }
                state.entries[stream] = .erased(erasure)
            }
            // (A key made since the flush, for a stream erased now, is never written.)
            let erased = Set(streams)
            state.fresh.removeAll { erased.contains($0.stream) }
            let records = try rewrittenRecords(&state)
            let temporary = path + ".tmp"
            try Self.writeFile(temporary, header: header, records: records)
            guard rename(temporary, path) == 0 else { throw KeyStoreError.io(path, errno) }
            try? System.synchronize(path: (path as NSString).deletingLastPathComponent)
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard state.descriptor >= 0 else { throw KeyStoreError.io(path, errno) }
            // (The file just written: its identity from the descriptor, not read back.)
            var info = stat()
            guard fstat(state.descriptor, &info) == 0 else { throw KeyStoreError.io(path, errno) }
            state.identity = (UInt64(info.st_ino), Int(info.st_size))
            return destroyed
        }
    }

    /// Every record of the file after an erasure: the erasures and single keys in stream
    /// order, then each chunk — as it was when every key of it is kept, else the keys kept
    /// wrapped again in a new chunk (whose entries then point to it).
    private func rewrittenRecords(_ state: inout State) throws -> [UInt8] {
        guard let master else { throw KeyStoreError.missingMasterKey(path) }
        var records: [UInt8] = []
        var kept: [ObjectIdentifier: (chunk: KeyChunk, indices: [Int])] = [:]
        for (stream, entry) in state.entries.sorted(by: { $0.key < $1.key }) {
            switch entry {
            case .key(let wrapped, let key):
                // (A key made since the flush has none yet: it is appended to the new file
                // when flushed.)
                var found = wrapped
                if case .none = wrapped, let key { found = key.wrapped }
                switch found {
                case .none: break
                case .single(let bytes): Self.appendRecord(kind: 1, stream: stream, body: bytes, to: &records)
                case .chunk(let chunk, let index): kept[ObjectIdentifier(chunk), default: (chunk, [])].indices.append(index)
                }
            case .erased(let erased): Self.appendRecord(kind: 2, stream: stream, body: Self.erasureBody(erased), to: &records)
            }
        }
        for (chunk, indices) in kept.values.sorted(by: { $0.chunk.streams[0] < $1.chunk.streams[0] }) {
            if indices.count == chunk.streams.count {
                chunk.appendRecord(to: &records)
                continue
            }
            let ordered = indices.sorted()
            var plain: [UInt8] = []
            plain.reserveCapacity(ordered.count * 32)
            for index in ordered { plain.append(contentsOf: try chunk.key(index, master: master, path: path)) }
            let streams = ordered.map { chunk.streams[$0] }
            let again = try KeyChunk.seal(streams: streams, keys: plain, master: master)
            again.appendRecord(to: &records)
            for (index, stream) in streams.enumerated() {
                guard case .key(_, let key)? = state.entries[stream] else { continue }
                state.entries[stream] = .key(wrapped: .chunk(again, index: index), key: key)
                key?.wrapped = .chunk(again, index: index)
            }
        }
        return records
    }

    // MARK: The file

    private func reloadIfChanged(_ state: inout State) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        let identity = (inode: UInt64(info.st_ino), size: Int(info.st_size))
        guard identity.inode != state.identity.inode || identity.size > state.identity.size else { return }
        guard let contents = try? Self.read(path), let parsed = try? Self.parse(contents.bytes, path: path) else { return }
        // (Keys already unwrapped stay cached; erasures read now win.)
        for (stream, entry) in parsed.entries {
            if case .key? = state.entries[stream], case .key = entry { continue }
            state.entries[stream] = entry
        }
        if identity.inode != state.identity.inode {
            for stream in state.entries.keys where parsed.entries[stream] == nil { state.entries[stream] = nil }
        }
        state.identity = (contents.inode, parsed.validSize)
    }

    static func header(master: SymmetricKey, personal: PersonalFields) -> [UInt8] {
        var body: [UInt8] = []
        // (A fresh nonce each time: the box only proves the key.)
        if let check = try? AES.GCM.seal([UInt8](repeating: 0, count: 32), using: master, authenticating: checkContext).combined {
            body.append(contentsOf: check)
        }
        EventCodec.writeVarint(personal.names.count, into: &body)
        for name in personal.names {
            EventCodec.writeVarint(name.utf8.count, into: &body)
            body.append(contentsOf: name.utf8)
        }
        var out = magic
        withUnsafeBytes(of: UInt32(body.count).littleEndian) { out.append(contentsOf: $0) }
        return out + body
    }

    static func erasureBody(_ erasure: Erasure) -> [UInt8] {
        var body: [UInt8] = []
        withUnsafeBytes(of: erasure.at.microseconds.littleEndian) { body.append(contentsOf: $0) }
        EventCodec.writeVarint(erasure.reason.utf8.count, into: &body)
        body.append(contentsOf: erasure.reason.utf8)
        return body
    }

    static func appendRecord(kind: UInt8, stream: String, body: [UInt8], to out: inout [UInt8]) {
        var record: [UInt8] = [kind]
        EventCodec.writeVarint(stream.utf8.count, into: &record)
        record.append(contentsOf: stream.utf8)
        record.append(contentsOf: body)
        withUnsafeBytes(of: UInt32(record.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: record)
    }

    static func opens(_ check: [UInt8], master: SymmetricKey) -> Bool {
        guard let box = try? AES.GCM.SealedBox(combined: check),
              let plain = try? AES.GCM.open(box, using: master, authenticating: checkContext) else { return false }
        return plain.count == 32 && plain.allSatisfy { $0 == 0 }
    }

    static func unwrap(_ wrapped: [UInt8], stream: String, master: SymmetricKey, path: String) throws -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return Array(try AES.GCM.open(box, using: master, authenticating: Array(stream.utf8)))
        } catch {
            throw KeyStoreError.damaged(path, "the key of \(stream) does not open with the master key")
        }
    }

    struct Parsed {
        var check: [UInt8]
        var personal: PersonalFields
        var entries: [String: Entry]
        /// The bytes up to the end of the last complete record.
        var validSize: Int
        var headerEnd: Int
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> Parsed {
        func damaged(_ why: String) -> KeyStoreError { .damaged(path, why) }
        guard bytes.count >= magic.count + 4, bytes.starts(with: magic) else { throw damaged("not a LeadLedger key store (no LLKEYS1 header)") }
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        let headerLength = u32(magic.count)
        let headerEnd = magic.count + 4 + headerLength
        guard headerEnd <= bytes.count, headerLength >= 60 else { throw damaged("truncated header") }
        let check = Array(bytes[magic.count + 4..<magic.count + 64])
        var names: [String] = []
        var cursor = ByteCursor(bytes: bytes, index: magic.count + 64, end: headerEnd)
        guard let count = cursor.varint() else { throw damaged("truncated header") }
        for _ in 0..<count {
            guard let name = cursor.string() else { throw damaged("truncated personal field names") }
            names.append(name)
        }
        var entries: [String: Entry] = [:]
        var index = headerEnd
        while index + 4 <= bytes.count {
            let length = u32(index)
            guard length > 0, index + 4 + length <= bytes.count else { break }
            var record = ByteCursor(bytes: bytes, index: index + 5, end: index + 4 + length)
            if bytes[index + 4] == 3 {
                guard let count = record.varint(), count > 0, count <= length else { throw damaged("the chunk of keys at byte \(index) has no count") }
                var streams: [String] = []
                streams.reserveCapacity(count)
                for _ in 0..<count {
                    guard let stream = record.string() else { throw damaged("the chunk of keys at byte \(index) is truncated") }
                    streams.append(stream)
                }
                guard record.end - record.index == 28 + 32 * count else { throw damaged("the chunk of keys at byte \(index) does not hold \(count) keys") }
                let chunk = KeyChunk(streams: streams, box: Array(bytes[record.index..<record.end]))
                for (position, stream) in streams.enumerated() {
                    if case .erased? = entries[stream] { continue }
                    entries[stream] = .key(wrapped: .chunk(chunk, index: position), key: nil)
                }
                index += 4 + length
                continue
            }
            guard let stream = record.string() else { throw damaged("a record at byte \(index) has no stream id") }
            switch bytes[index + 4] {
            case 1:
                guard record.end - record.index == 60 else { throw damaged("the key of \(stream) is not 60 bytes") }
                if case .erased? = entries[stream] { break }
                entries[stream] = .key(wrapped: .single(Array(bytes[record.index..<record.end])), key: nil)
            case 2:
                guard let at = record.int64(), let reason = record.string() else { throw damaged("the erasure of \(stream) is truncated") }
                entries[stream] = .erased(Erasure(at: Timestamp(microseconds: at), reason: reason))
            case let kind:
                throw damaged("unknown record kind \(kind) at byte \(index)")
            }
            index += 4 + length
        }
        return Parsed(check: check, personal: PersonalFields(names: names), entries: entries, validSize: index, headerEnd: headerEnd)
    }

    struct ByteCursor {
        let bytes: [UInt8]
        var index: Int
        let end: Int

        mutating func varint() -> Int? {
            var result = 0
            var shift = 0
            while index < end, shift < 63 {
                let byte = bytes[index]
                index += 1
                result |= Int(byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
            return nil
        }

        mutating func string() -> String? {
            guard let length = varint(), length <= end - index else { return nil }
            defer { index += length }
            return String(decoding: bytes[index..<index + length], as: UTF8.self)
        }

        mutating func int64() -> Int64? {
            guard end - index >= 8 else { return nil }
            var value: UInt64 = 0
            for offset in 0..<8 { value |= UInt64(bytes[index + offset]) << (8 * offset) }
            index += 8
            return Int64(bitPattern: value)
        }
    }

    /// How many random bytes are drawn at once for new keys.
    static let randomPool = 64 << 10

    /// Fills `buffer` from the kernel's random source (no allocation).
    static func fillRandom(_ buffer: inout [UInt8]) throws {
        let source = "/dev/urandom"
        let descriptor = Glibc.open(source, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KeyStoreError.io(source, errno) }
        defer { close(descriptor) }
        var done = 0
        while done < buffer.count {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + done, $0.count - done) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw KeyStoreError.io(source, got == 0 ? EIO : errno) }
            done += got
        }
    }

    static func read(_ path: String) throws -> (bytes: [UInt8], inode: UInt64) {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw KeyStoreError.io(path, errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw KeyStoreError.io(path, errno) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + done, $0.count - done) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw KeyStoreError.io(path, errno) }
            if got == 0 { break }
            done += got
        }
        return (Array(bytes[..<done]), UInt64(info.st_ino))
    }

    static func writeFile(_ path: String, header: [UInt8], records: [UInt8]) throws {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw KeyStoreError.io(path, errno) }
        defer { close(descriptor) }
        try (header + records).withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
        guard fsync(descriptor) == 0 else { throw KeyStoreError.io(path, errno) }
    }

    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let wrote = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if wrote < 0, errno == EINTR { continue }
            guard wrote > 0 else { throw KeyStoreError.io(path, errno) }
            done += wrote
        }
    }
}

extension LeadKeyStore: SealedValueOpener {
    public func open(keyID: UnsafeRawBufferPointer, box: UnsafeRawBufferPointer) -> OpenedValue {
        open(keyID: String(decoding: keyID, as: UTF8.self), box: box)
    }
}

/// The key store cannot be used.
public enum KeyStoreError: Error, CustomStringConvertible, Equatable {
    case missingMasterKey(String)
    case wrongMasterKey(String)
    case noKeyStore(String)
    case readOnly(String)
    case damaged(String, String)
    case io(String, Int32)

    public var description: String {
        switch self {
        case .missingMasterKey(let path):
            return "the store keeps personal fields encrypted (\(path)) and needs its master key: give --master-key-file FILE "
                + "or set \(MasterKey.environmentVariable) (base64 of 32 bytes)"
        case .wrongMasterKey(let path):
            return "the master key given does not open \(path): it is not the key this store was created with"
        case .noKeyStore(let path): return "no key store at \(path)"
        case .readOnly(let path): return "\(path) is open for reading only"
        case .damaged(let path, let why): return "\(path) is damaged: \(why)"
        case .io(let path, let code): return "\(path): \(System.describe(code))"
        }
    }
}
