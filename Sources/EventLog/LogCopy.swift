import Foundation
import LMDB

/// Where a log ends: its last position and the chain's hash there (64 hex digits; the
/// genesis hash for an empty log).
public struct LogTip: Sendable, Equatable, CustomStringConvertible {
    public var position: UInt64
    public var hash: String

    public init(position: UInt64, hash: String) {
        self.position = position
        self.hash = hash
    }

    public var description: String { "position \(position), hash \(hash)" }
}

extension EventLog {
    /// The files `copy(to:)` writes: the data file and the log's head.
    public static let copyFiles = ["data.mdb", LogHead.fileName]

    /// The last position and the chain's hash there, as the latest commit left them.
    public var tip: LogTip {
        get throws {
            let tip = try environment.read { txn in try Self.readTip(txn, tables) }
            return LogTip(position: tip.position, hash: tip.hash.hex)
        }
    }

    /// Writes a compacted copy of the log's environment (free pages left out) into the
    /// existing, empty directory `directory`, while the writer goes on: LMDB copies from one
    /// read snapshot, so the copy holds every commit up to some point and nothing of later
    /// ones. Which commit that was is known only afterwards, so the copy's tip is read from
    /// the copy itself and recorded there as its head (`log.head`): a store restored from it
    /// detects a lost or replaced data file from its first open. Returns the copy's tip.
    public func copy(to directory: String) throws -> LogTip {
        try environment.copy(to: directory, compact: true)
        var options = Options()
        options.readOnly = true
        let copy = try EventLog(path: directory, options: options)
        let tip: LogTip
        do {
            tip = try copy.tip
        } catch {
            copy.close()
            throw error
        }
        copy.close()
        // Opening the copy made a lock file, which belongs to no store.
        try? FileManager.default.removeItem(atPath: directory + "/lock.mdb")
        guard let hash = ChainHash(hex: tip.hash) else { throw LogError.corruptRecord(position: tip.position) }
        try LogHead(position: tip.position, hash: hash).store(directory: directory)
        return tip
    }
}
