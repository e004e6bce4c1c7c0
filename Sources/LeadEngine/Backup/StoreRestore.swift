import EventLog
import Foundation

/// What a restore did.
public struct RestoreReport: Sendable {
    public var manifest: BackupManifest
    /// The restored store (absolute).
    public var store: String
    /// The events `verify` walked.
    public var events: UInt64
}

/// Makes a new store from a backup (`LeadStore.backup`), and refuses any backup that is not
/// exactly what was written: a missing or unreadable manifest, a file missing or of another
/// size or SHA-256 than the manifest says, a log that does not verify, or one that ends
/// elsewhere than the manifest says.
public enum StoreRestore {
    /// Restores the backup in `backup` into `store`, which must not exist or be empty. The
    /// files are copied into a hidden sibling of `store`, checked there (`verify`; with
    /// `deep`, the projections are also compared with a fresh replay), and only then moved
    /// into place: a refused restore leaves nothing behind.
    public static func restore(from backup: String, into store: String, deep: Bool = false, progress: ((String) -> Void)? = nil) throws -> RestoreReport {
        let source = URL(fileURLWithPath: backup).standardizedFileURL.path
        let manifest = try BackupManifest.read(directory: source)
        // Presence and sizes first (cheap), so that nothing is created for a backup that
        // cannot be restored; the hashes are checked on the bytes copied.
        for file in manifest.files {
            let path = source + "/" + file.name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular else {
                throw BackupError.missingFile(backup: source, name: file.name)
            }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
            guard size == file.bytes else { throw BackupError.sizeDiffers(path: path, found: size, expected: file.bytes) }
        }
        let staged = try StagedDirectory(store)
        do {
            for file in manifest.files {
                let path = source + "/" + file.name
                let (bytes, sha256) = try FileCopy.copy(path, to: staged.file(file.name)) { done in
                    progress?("copying \(file.name): \(StoreFault.sizeInWords(UInt64(done))) of \(StoreFault.sizeInWords(UInt64(file.bytes)))")
                }
                guard bytes == file.bytes else { throw BackupError.sizeDiffers(path: path, found: bytes, expected: file.bytes) }
                guard sha256 == file.sha256 else { throw BackupError.hashDiffers(path: path, found: sha256, expected: file.sha256) }
            }
            let events = try verify(staged.staging, against: manifest, deep: deep, progress: progress)
            try staged.commit()
            return RestoreReport(manifest: manifest, store: staged.final, events: events)
        } catch {
            staged.discard()
            throw error
        }
    }

    /// `leadledger verify` on the restored files, and the log's tip against the manifest's.
    private static func verify(_ directory: String, against manifest: BackupManifest, deep: Bool, progress: ((String) -> Void)?) throws -> UInt64 {
        // The log first, read-only: a log that does not verify is refused before anything
        // replays it.
        var options = EventLog.Options()
        options.readOnly = true
        let log = try EventLog(path: directory, options: options)
        let report: VerificationReport
        let tip: LogTip
        do {
            report = try log.verify { position in progress?("verifying: \(position) of \(manifest.position) events checked") }
            tip = try log.tip
        } catch {
            log.close()
            throw error
        }
        log.close()
        if let failure = report.failure { throw BackupError.verifyFailed(failure.description) }
        let expected = LogTip(position: manifest.position, hash: manifest.hash)
        guard tip == expected else { throw BackupError.tipDiffers(found: tip.description, expected: expected.description) }

        // Then the projections, with the store open for writing: projections behind the log
        // (a backup taken while a rebuild ran) are caught up as the store opens.
        let store = try LeadStore(path: directory)
        defer { store.close() }
        let problems = try store.verifyProjections(deep: deep) { progress?("verifying: \($0)") }
        guard problems.isEmpty else { throw BackupError.verifyFailed(problems.map(\.description).joined(separator: "; ")) }
        return report.records
    }
}
