import Foundation
import LedgerSystem

/// What a store's log held when its last writer closed it, kept beside the data file
/// (`log.head`): the last position and the chain's hash there. LMDB cannot tell a truncated or
/// emptied data file from a young one; this record can. A log shorter than its head, or with
/// another hash at that position, lost events or was replaced, and is reported as damage,
/// never read as a smaller or empty store.
///
/// It is written when a writer closes the log (not at every commit: a crash leaves it behind
/// the log, which is no damage), atomically (a temporary file renamed over it).
struct LogHead: Equatable {
    static let fileName = "log.head"

    var position: UInt64
    var hash: ChainHash

    static func read(directory: String) -> LogHead? {
        guard let text = try? String(contentsOfFile: directory + "/" + fileName, encoding: .utf8) else { return nil }
        var position: UInt64?
        var hash: ChainHash?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "position": position = UInt64(parts[1])
            case "hash": hash = ChainHash(hex: parts[1])
            default: continue
            }
        }
        guard let position, let hash else { return nil }
        return LogHead(position: position, hash: hash)
    }

    /// Records the head, best effort (a log closing has nowhere to report a failure: a head
    /// left behind the log is no damage).
    func write(directory: String) {
        try? store(directory: directory)
    }

    /// Records the head, or throws why it could not.
    func store(directory: String) throws {
        let text = "position \(position)\nhash \(hash.hex)\n"
        let path = directory + "/" + Self.fileName
        let temporary = path + ".tmp"
        let file = try System.OutputFile(creating: temporary)
        try file.write(Array(text.utf8))
        try file.close()
        try System.synchronize(path: temporary)
        guard rename(temporary, path) == 0 else { throw System.FileError(path: path, errno: errno, operation: .write) }
    }
}

extension ChainHash {
    var hex: String {
        withBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        self = bytes.withUnsafeBytes { ChainHash(bytes: $0) }
    }
}
