import Crypto
import Foundation
import LeadEngine
import LedgerSystem

/// What a key may do. `ingest` appends; `read` reads leads, audit, reports and the log;
/// `admin` does both and publishes rules.
public enum Role: String, Sendable, CaseIterable, Codable {
    case ingest
    case read
    case admin

    /// Whether this role grants `needed`.
    func allows(_ needed: Role) -> Bool {
        self == .admin || self == needed
    }
}

/// An API key as stored: its name, role and the SHA-256 of its secret (the secret itself is
/// shown once, when it is created, and never stored).
public struct APIKey: Sendable, Equatable, Codable {
    public var name: String
    public var role: Role
    public var sha256: String
    public var created: String
    /// Tracking messages a second this key may send (`keys create --rate`); `nil`: the
    /// server's `--tracking-rate`, if any.
    public var messagesPerSecond: Double?
}

/// The store's API keys, in `keys.json` in the store directory. The file is kept apart from
/// the log so that `leadledger keys create|revoke` works while a server holds the store's
/// writer lock; it is written whole and renamed into place (under `keys.lock`), and a server
/// reads it again when it changes.
public final class KeyStore: @unchecked Sendable {
    public static let fileName = StoreFiles.apiKeys
    public let path: String
    private let lock = NSLock()
    private var keys: [String: APIKey] = [:]
    private var loadedStamp: Date?
    private var lastCheck = Date.distantPast

    public init(directory: String) {
        path = directory + "/" + Self.fileName
    }

    public enum Failure: Error, CustomStringConvertible {
        case exists(String)
        case unknown(String)
        case invalidName(String)
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .exists(let name): return "a key named \(name) exists already; revoke it first or choose another name"
            case .unknown(let name): return "no key is named \(name)"
            case .invalidName(let name): return "\(name.debugDescription) is not a key name: use 1 to 64 letters, digits, '-', '_' or '.'"
            case .unreadable(let path, let why): return "cannot read the keys in \(path): \(why)"
            }
        }
    }

    /// Every key, by name.
    public func list() throws -> [APIKey] {
        try read().sorted { $0.name < $1.name }
    }

    /// Creates a key and returns its secret (to be shown once).
    public func create(name: String, role: Role, messagesPerSecond: Double? = nil, at time: Date = Date()) throws -> String {
        guard Self.isValidName(name) else { throw Failure.invalidName(name) }
        return try changing { keys in
            guard !keys.contains(where: { $0.name == name }) else { throw Failure.exists(name) }
            var bytes = [UInt8](repeating: 0, count: 24)
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
            let secret = "ll_" + bytes.map { String(format: "%02x", $0) }.joined()
            keys.append(APIKey(
                name: name, role: role, sha256: Self.digest(secret), created: ISO8601DateFormatter().string(from: time), messagesPerSecond: messagesPerSecond))
            return secret
        }
    }

    public func revoke(name: String) throws {
        try changing { keys in
            guard let index = keys.firstIndex(where: { $0.name == name }) else { throw Failure.unknown(name) }
            keys.remove(at: index)
        }
    }

    /// The key whose secret this is, if any (reading the file again when it has changed, at
    /// most once a second).
    public func key(forSecret secret: String) -> APIKey? {
        let digest = Self.digest(secret)
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if now.timeIntervalSince(lastCheck) >= 1 || keys.isEmpty {
            lastCheck = now
            let stamp = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            if stamp != loadedStamp, let loaded = try? read() {
                keys = Dictionary(loaded.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
                loadedStamp = stamp
            }
        }
        return keys[digest]
    }

    /// (Every request hashes its key: hex from a table, not `String(format:)` per byte.)
    static func digest(_ secret: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0)
        }
    }

    private struct File: Codable {
        var keys: [APIKey]
    }

    private func read() throws -> [APIKey] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path))).keys
        } catch {
            throw Failure.unreadable(path, String(describing: error))
        }
    }

    private func changing<R>(_ body: (inout [APIKey]) throws -> R) throws -> R {
        let fileLock = try System.FileLock(path: path + ".lock")
        try fileLock.lock()
        defer { fileLock.unlock() }
        var keys = try read()
        let result = try body(&keys)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(File(keys: keys))
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw System.FileError(path: temporary, errno: errno, operation: .write)
        }
        guard rename(temporary, path) == 0 else { throw System.FileError(path: path, errno: errno, operation: .write) }
        return result
    }
}
