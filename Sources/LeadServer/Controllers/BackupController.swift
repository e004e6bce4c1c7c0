import Foundation
import Hummingbird
import LeadEngine
import LedgerJSON
import Synchronization

/// `POST /v1/admin/backup` (admin): a backup of the served store (`LeadStore.backup`) while
/// appends go on.
///
/// A server writes backups only under the directory it was started with
/// (`serve --backup-dir`), and only into a new directory directly below it, named by the
/// request: a name of letters, digits, `-`, `_` and `.`, not starting with a dot, so no
/// path can climb out (`..`), reach elsewhere (`/`), or collide with the hidden directories
/// backups are staged in. Without `--backup-dir` the route refuses (403): a key, even an
/// admin's, never chooses where the server's process writes.
struct BackupController {
    let store: LeadStore
    /// The backup root (absolute, symbolic links resolved), or nil: no backups over HTTP.
    let root: String?
    let gate: WriteGate
    private let running = Running()

    init(store: LeadStore, root: String?, gate: WriteGate) {
        self.store = store
        self.root = root.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path }
        self.gate = gate
    }

    func add(to admin: RouterGroup<LeadRequestContext>) {
        admin.post("admin/backup", use: backup)
    }

    private final class Running: Sendable {
        let flag = Mutex(false)
    }

    static let maxNameLength = 100

    @Sendable func backup(_ request: Request, context: LeadRequestContext) async throws -> Response {
        guard let root else {
            throw Problem(.forbidden, "this server takes no backups over HTTP: start it with --backup-dir DIR (backups are written only under DIR), or run leadledger backup beside it")
        }
        let name = try await Self.name(request) ?? Self.defaultName()
        let target = root + "/" + name
        guard running.flag.withLock({ busy in defer { busy = true }; return !busy }) else {
            throw Problem(.conflict, "a backup is already being written; try again when it is done")
        }
        defer { running.flag.withLock { $0 = false } }
        let store = self.store
        let started = Date()
        // Beside appends, never beside a rules publish: that rebuilds the projections, and a
        // backup taken then would carry the half-built generation.
        let manifest = try await gate.withAppend {
            try await offThePool {
                do {
                    return try store.backup(into: target)
                } catch let error as BackupError {
                    switch error {
                    case .targetNotEmpty, .targetNotDirectory:
                        throw Problem(.conflict, "\(name) exists under the backup directory: choose another name")
                    default:
                        throw Problem(.internalServerError, error.description)
                    }
                } catch {
                    throw Problem(.internalServerError, "the backup could not be written: \(StoreFault.describe(error, store: target))")
                }
            }
        }
        var object = manifest.json.objectValue ?? [:]
        object["name"] = .string(name)
        object["path"] = .string(target)
        object["seconds"] = .number((Date().timeIntervalSince(started) * 1000).rounded() / 1000)
        return jsonResponse(.object(object), status: .created)
    }

    /// The `name` the body gives, nil for an empty body.
    static func name(_ request: Request) async throws -> String? {
        guard let object = try await ObjectBody.read(request, members: ["name"], example: #"{"name": "nightly-1"}"#) else { return nil }
        guard let member = object["name"] else { return nil }
        guard let name = member.stringValue else { throw Problem(.badRequest, "name is \(member.typeName), not a string") }
        guard isValidName(name) else {
            throw Problem(.badRequest, "name \(name.debugDescription) is not a backup name: use 1 to \(maxNameLength) letters, digits, '-', '_' or '.', not starting with '.' (a new directory directly under the server's backup directory)")
        }
        return name
    }

    static func isValidName(_ name: String) -> Bool {
        (1...maxNameLength).contains(name.utf8.count) && !name.hasPrefix(".")
            && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// `backup-` and the time to the second, UTC (`backup-20260301T101500Z`).
    static func defaultName() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "backup-" + formatter.string(from: Date())
    }
}
