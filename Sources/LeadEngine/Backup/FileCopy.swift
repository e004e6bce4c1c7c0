import Crypto
import Foundation
import LedgerSystem

/// Reading a file in blocks while hashing it, and copying it that way: the hash is always of
/// the bytes read (for a copy: of the bytes written), never of a second read of the file.
enum FileCopy {
    static let blockSize = 1 << 20

    /// The size and SHA-256 of the file at `path`; `progress` gets the bytes read so far.
    static func digest(_ path: String, progress: ((Int) -> Void)? = nil) throws -> (bytes: Int, sha256: String) {
        try pass(from: path, to: nil, progress: progress)
    }

    /// Copies `source` to `target` (created, or truncated) with the source's permissions
    /// (`keys.json` is readable by its owner only), flushed to the disk, and returns the size
    /// and SHA-256 of what was written.
    static func copy(_ source: String, to target: String, progress: ((Int) -> Void)? = nil) throws -> (bytes: Int, sha256: String) {
        let output = try System.OutputFile(creating: target)
        var info = stat()
        if stat(source, &info) == 0 {
            chmod(target, info.st_mode & 0o777)
        }
        let result = try pass(from: source, to: output, progress: progress)
        try output.close()
        try System.synchronize(path: target)
        return result
    }

    private static func pass(from path: String, to output: System.OutputFile?, progress: ((Int) -> Void)?) throws -> (bytes: Int, sha256: String) {
        let input = try System.InputFile(path: path)
        var hasher = SHA256()
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try input.read(into: buffer.baseAddress!, count: blockSize)
            if count == 0 { break }
            let block = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(bufferPointer: block)
            try output?.write(block)
            total += count
            progress?(total)
        }
        return (total, hex(hasher.finalize()))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
