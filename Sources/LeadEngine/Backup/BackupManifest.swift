import Foundation
import LedgerJSON

/// What a backup holds (`manifest.json`, written last): where the log ends in it (position
/// and chain hash), when and from which store it was taken, and each file's size and SHA-256,
/// so that a restore can tell a complete, unchanged backup from anything else.
public struct BackupManifest: Sendable, Equatable {
    public static let fileName = "manifest.json"
    public static let format = "leadledger-backup"
    public static let version = 1

    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int
        /// 64 lowercase hex digits.
        public var sha256: String

        public init(name: String, bytes: Int, sha256: String) {
            self.name = name
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// RFC 3339, UTC, when the copy was taken.
    public var created: String
    /// The source store's directory (absolute).
    public var source: String
    /// The copy's last position and the chain's hash there.
    public var position: UInt64
    public var hash: String
    public var files: [File]

    public var totalBytes: Int { files.reduce(0) { $0 + $1.bytes } }

    public var json: JSONValue {
        [
            "format": .string(Self.format), "version": .integer(Self.version),
            "created": .string(created), "source": .string(source),
            "position": .integer(position), "hash": .string(hash),
            "files": .array(files.map { ["name": .string($0.name), "bytes": .integer($0.bytes), "sha256": .string($0.sha256)] }),
        ]
    }

    /// Reads and checks the manifest of the backup in `directory` (its shape only: the files
    /// are checked by `StoreRestore`).
    public static func read(directory: String) throws(BackupError) -> BackupManifest {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .noBackup(directory)
            }
            throw .noManifest(directory)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        } catch {
            throw .badManifest(path, "it is not JSON (\(error))")
        }
        do {
            return try BackupManifest(json: value)
        } catch let problem as ManifestProblem {
            throw .badManifest(path, problem.text)
        } catch {
            throw .badManifest(path, String(describing: error))
        }
    }

    private struct ManifestProblem: Error {
        let text: String
    }

    private init(json: JSONValue) throws {
        guard let object = json.objectValue else { throw ManifestProblem(text: "it is \(json.typeName), not an object") }
        func string(_ name: String, in object: JSONObject, at place: String = "") throws -> String {
            guard let member = object[name] else { throw ManifestProblem(text: "\(place)\(name) is missing") }
            guard let text = member.stringValue else { throw ManifestProblem(text: "\(place)\(name) is \(member.typeName), not a string") }
            return text
        }
        func count(_ name: String, in object: JSONObject, at place: String = "") throws -> Int {
            guard let member = object[name] else { throw ManifestProblem(text: "\(place)\(name) is missing") }
            guard let number = member.doubleValue, number >= 0, number < 0x1p53, number.rounded() == number else {
                throw ManifestProblem(text: "\(place)\(name) is not a whole number from 0")
            }
            return Int(number)
        }
        let format = try string("format", in: object)
        guard format == Self.format else { throw ManifestProblem(text: "format is \(format.debugDescription), not \(Self.format.debugDescription)") }
        let version = try count("version", in: object)
        guard version == Self.version else {
            throw ManifestProblem(text: "version is \(version); this leadledger reads version \(Self.version) only")
        }
        created = try string("created", in: object)
        source = try string("source", in: object)
        position = UInt64(try count("position", in: object))
        hash = try string("hash", in: object)
        guard Self.isDigest(hash) else { throw ManifestProblem(text: "hash is not 64 lowercase hex digits") }
        guard let list = object["files"]?.arrayValue else { throw ManifestProblem(text: "files is missing or not an array") }
        var files: [File] = []
        for (index, entry) in list.enumerated() {
            let place = "files[\(index)]."
            guard let file = entry.objectValue else { throw ManifestProblem(text: "files[\(index)] is \(entry.typeName), not an object") }
            let name = try string("name", in: file, at: place)
            guard StoreFiles.isPlainName(name) else { throw ManifestProblem(text: "\(place)name \(name.debugDescription) is not a file name in the backup directory") }
            guard !files.contains(where: { $0.name == name }) else { throw ManifestProblem(text: "\(place)name \(name) is listed twice") }
            let sha256 = try string("sha256", in: file, at: place)
            guard Self.isDigest(sha256) else { throw ManifestProblem(text: "\(place)sha256 is not 64 lowercase hex digits") }
            files.append(File(name: name, bytes: try count("bytes", in: file, at: place), sha256: sha256))
        }
        for name in StoreFiles.log where !files.contains(where: { $0.name == name }) {
            throw ManifestProblem(text: "files does not list \(name)")
        }
        self.files = files
    }

    init(created: String, source: String, position: UInt64, hash: String, files: [File]) {
        self.created = created
        self.source = source
        self.position = position
        self.hash = hash
        self.files = files
    }

    static func isDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Why a backup could not be written or restored, in the words an operator needs (which
/// directory or file, and what differs).
public enum BackupError: Error, CustomStringConvertible, Equatable {
    /// The backup's target (or a restore's new store) exists and holds files.
    case targetNotEmpty(String)
    case targetNotDirectory(String)
    case noBackup(String)
    case noManifest(String)
    case badManifest(String, String)
    case missingFile(backup: String, name: String)
    case sizeDiffers(path: String, found: Int, expected: Int)
    case hashDiffers(path: String, found: String, expected: String)
    /// The restored log ends elsewhere than the manifest says.
    case tipDiffers(found: String, expected: String)
    /// `verify` refused the restored log or its projections.
    case verifyFailed(String)

    public var description: String {
        switch self {
        case .targetNotEmpty(let path):
            return "\(path) exists and is not empty: give a new directory (or an empty one)"
        case .targetNotDirectory(let path):
            return "\(path) exists and is not a directory"
        case .noBackup(let path):
            return "no backup at \(path): it is not a directory"
        case .noManifest(let path):
            return "\(path) holds no \(BackupManifest.fileName): it is not a LeadLedger backup, or its writing did not finish"
        case .badManifest(let path, let problem):
            return "the backup's manifest \(path) cannot be used: \(problem)"
        case .missingFile(let backup, let name):
            return "the backup in \(backup) lacks \(name), which its manifest lists"
        case .sizeDiffers(let path, let found, let expected):
            return "\(path) has \(found) bytes, but the manifest says \(expected): the file was changed or cut after the backup"
        case .hashDiffers(let path, let found, let expected):
            return "\(path) has SHA-256 \(found), but the manifest says \(expected): the file was changed after the backup"
        case .tipDiffers(let found, let expected):
            return "the restored log ends at \(found), but the manifest says \(expected)"
        case .verifyFailed(let problem):
            return "the restored store does not verify: \(problem)"
        }
    }
}
