import EventLog
import Foundation
import LedgerJSON
import LedgerSystem
import LMDB
import Synchronization

extension LeadStore {
    /// Writes a backup of the store into `directory` (which must not exist, or be empty)
    /// while appends go on: the log's environment compacted from one read snapshot (with
    /// its head), the store's other files (`StoreFiles.companions`), then the manifest. The
    /// directory appears whole or not at all (`StagedDirectory`). `progress` is called, on
    /// any thread, with what is being done.
    ///
    /// The store may be open for writing (a server) or for reading (the CLI beside a server).
    public func backup(into directory: String, progress: (@Sendable (String) -> Void)? = nil) throws -> BackupManifest {
        let staged = try StagedDirectory(directory)
        do {
            let manifest = try fill(staged, progress: progress)
            try staged.commit()
            return manifest
        } catch {
            staged.discard()
            throw error
        }
    }

    private func fill(_ staged: StagedDirectory, progress: (@Sendable (String) -> Void)?) throws -> BackupManifest {
        let created = ISO8601DateFormatter().string(from: Date())
        let tip = try watchingSize(of: staged.file("data.mdb"), progress: progress) {
            try log.copy(to: staged.staging)
        }
        var files: [BackupManifest.File] = []
        for name in StoreFiles.log {
            let (bytes, sha256) = try FileCopy.digest(staged.file(name)) { done in
                progress?("checksumming \(name): \(StoreFault.sizeInWords(UInt64(done)))")
            }
            // (The log's copy is flushed here: LMDB does not flush what it copies.)
            try System.synchronize(path: staged.file(name))
            files.append(.init(name: name, bytes: bytes, sha256: sha256))
        }
        for name in StoreFiles.companions {
            let source = log.environment.path + "/" + name
            guard FileManager.default.fileExists(atPath: source) else { continue }
            progress?("copying \(name)")
            let (bytes, sha256) = try FileCopy.copy(source, to: staged.file(name))
            files.append(.init(name: name, bytes: bytes, sha256: sha256))
        }
        let manifest = BackupManifest(created: created, source: log.environment.path, position: tip.position, hash: tip.hash, files: files)
        let path = staged.file(BackupManifest.fileName)
        let output = try System.OutputFile(creating: path)
        try output.write(Array((JSONWriter.renderPretty(manifest.json) + "\n").utf8))
        try output.close()
        try System.synchronize(path: path)
        return manifest
    }

    /// Runs `body` (LMDB's copy, which says nothing while it works) and meanwhile reports the
    /// size of the file it writes, a few times a second.
    private func watchingSize<R>(of path: String, progress: (@Sendable (String) -> Void)?, _ body: () throws -> R) throws -> R {
        guard let progress else { return try body() }
        let done = StopFlag()
        let finished = DispatchSemaphore(value: 0)
        let watcher = Thread {
            while !done.value.load(ordering: .acquiring) {
                let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
                progress("copying the log (compacting): \(StoreFault.sizeInWords(bytes)) written")
                usleep(200_000)
            }
            finished.signal()
        }
        watcher.start()
        defer {
            done.value.store(true, ordering: .releasing)
            finished.wait()
        }
        return try body()
    }
}

private final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
