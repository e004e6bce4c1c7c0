import Foundation
import LedgerSystem
import Synchronization

/// One writer per store, across processes: an exclusive `flock` on `writer.lock` in the store
/// directory, held for as long as the log is open for writing (and released by the kernel when
/// the process ends, however it ends). Readers never take it.
///
/// Inside a process the environment can be opened once only, so a second writer there is
/// refused before it could wait for itself.
final class WriterLock: Sendable {
    static let fileName = "writer.lock"
    private static let held = Mutex<Set<String>>([])

    /// What a writer does when another process holds the lock.
    enum Wait: Sendable {
        /// Fail at once (`LogError.writerBusy`).
        case fail
        /// Wait for it, after telling `notice` who holds it.
        case wait(notice: @Sendable (String) -> Void)
    }

    private let lock: System.FileLock
    private let key: String

    /// Takes the lock of the store directory `directory` (creating the directory if needed)
    /// and writes `holder` into the lock file, for those who wait.
    init(directory: String, holder: String, wait: Wait) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        guard Self.held.withLock({ $0.insert(key).inserted }) else {
            throw LogError.writerBusy(store: directory, holder: "this process")
        }
        do {
            let lock = try System.FileLock(path: directory + "/" + Self.fileName)
            if !lock.tryLock() {
                let holder = lock.holder() ?? "another process"
                switch wait {
                case .fail:
                    throw LogError.writerBusy(store: directory, holder: holder)
                case .wait(let notice):
                    notice("waiting for the writer lock of \(directory), held by \(holder)")
                    try lock.lock()
                }
            }
            lock.describeHolder(holder)
            self.lock = lock
            self.key = key
        } catch {
            _ = Self.held.withLock { $0.remove(key) }
            throw error
        }
    }

    /// The holder's line: pid and command line (`pid 1234 (leadledger ingest a.jsonl)`).
    static func describeThisProcess(_ detail: String? = nil) -> String {
        let arguments = CommandLine.arguments
        let name = arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "?"
        let words = ([name] + arguments.dropFirst()).joined(separator: " ")
        return "pid \(System.processID) (\(words)\(detail.map { ", \($0)" } ?? ""))"
    }

    func release() {
        lock.unlock()
        _ = Self.held.withLock { $0.remove(key) }
    }
}
