import Foundation
import LedgerSystem

/// A directory that appears whole or not at all: it is filled as a hidden sibling of its
/// final path and renamed into place at the end, so nobody ever sees it half written (a
/// crash leaves only the hidden sibling, named `.NAME.partial-…`). The final path must not
/// exist, or be an empty directory (`rename` replaces an empty directory, and refuses a
/// directory that was filled meanwhile).
struct StagedDirectory {
    /// Where the directory will be (absolute).
    let final: String
    /// Where it is filled.
    let staging: String

    init(_ path: String) throws {
        final = URL(fileURLWithPath: path).standardizedFileURL.path
        try Self.checkFree(final)
        let parent = (final as NSString).deletingLastPathComponent
        let name = (final as NSString).lastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        staging = parent + "/.\(name).partial-\(System.processID)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
    }

    /// Refuses a path that holds anything but an empty directory (a symbolic link too:
    /// the rename would replace the link, not fill what it points to).
    static func checkFree(_ path: String) throws(BackupError) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        guard attributes[.type] as? FileAttributeType == .typeDirectory else { throw .targetNotDirectory(path) }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw .targetNotEmpty(path)
        }
    }

    func file(_ name: String) -> String { staging + "/" + name }

    /// Moves the filled directory into place, durably.
    func commit() throws {
        try System.synchronize(path: staging)
        guard rename(staging, final) == 0 else {
            let code = errno
            if code == ENOTEMPTY || code == EEXIST { throw BackupError.targetNotEmpty(final) }
            if code == ENOTDIR { throw BackupError.targetNotDirectory(final) }
            throw System.FileError(path: final, errno: code, operation: .write)
        }
        try System.synchronize(path: (final as NSString).deletingLastPathComponent)
    }

    /// Removes what was staged (after a failure).
    func discard() {
        try? FileManager.default.removeItem(atPath: staging)
    }
}
