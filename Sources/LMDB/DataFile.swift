#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an environment's `data.mdb` says of itself, read before LMDB maps it.
///
/// LMDB maps the data file and trusts its meta pages: a file shorter than the pages its last
/// transaction uses (truncated by a full disk, a bad copy, a crash of the file system) is a
/// SIGBUS on the first read past its end, in every command. So the file is checked first: the
/// newer of its two meta pages names the last page in use, which must lie inside the file.
public struct DataFile: Sendable, Equatable {
    /// The file's size in bytes (0: a file LMDB has not initialised yet).
    public var bytes: Int
    /// The page size its meta pages give, and how many pages its last transaction uses.
    public var pageSize: Int
    public var pagesUsed: Int

    /// A damaged data file, in words.
    public struct Damage: Error, Sendable, Equatable, CustomStringConvertible {
        public let path: String
        public let problem: String

        public var description: String { "\(path) is damaged: \(problem)" }
    }

    // The layout of a meta page (lmdb's MDB_meta after a 16-byte page header, 64-bit builds).
    private static let pageHeader = 16
    private static let magic: UInt32 = 0xBEEF_C0DE
    private static let pageSizeOffset = 24  // mm_dbs[FREE_DBI].md_pad
    private static let lastPageOffset = 120  // mm_last_pg
    private static let transactionOffset = 128  // mm_txnid

    /// Reads the meta pages of the data file at `path`; nil when there is no file. A file too
    /// short for its meta pages, with no valid meta page, or shorter than its last
    /// transaction's pages is `Damage`.
    public static func inspect(_ path: String) throws(Damage) -> DataFile? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            // (Unreadable: LMDB's own open reports it, with its cause.)
            return nil
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        if size == 0 { return DataFile(bytes: 0, pageSize: 0, pagesUsed: 0) }

        func meta(at offset: Int) -> (pageSize: Int, lastPage: UInt64, transaction: UInt64)? {
            var page = [UInt8](repeating: 0, count: 256)
            let read = page.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
            guard read == page.count else { return nil }
            return page.withUnsafeBytes { bytes in
                let base = pageHeader
                guard UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base, as: UInt32.self)) == magic else { return nil }
                let pageSize = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: base + pageSizeOffset, as: UInt32.self)))
                let lastPage = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + lastPageOffset, as: UInt64.self))
                let transaction = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + transactionOffset, as: UInt64.self))
                return (pageSize, lastPage, transaction)
            }
        }

        guard let first = meta(at: 0) else {
            throw Damage(path: path, problem: size < 256
                ? "it is \(size) bytes, too short to hold LMDB's meta pages"
                : "it does not start with an LMDB meta page")
        }
        guard [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].contains(first.pageSize) else {
            throw Damage(path: path, problem: "its meta page gives an impossible page size (\(first.pageSize))")
        }
        guard size >= 2 * first.pageSize else {
            throw Damage(path: path, problem: "it is \(size) bytes, too short to hold its two meta pages of \(first.pageSize) bytes")
        }
        let second = meta(at: first.pageSize)
        let newest = second.map { $0.transaction > first.transaction ? $0 : first } ?? first
        guard newest.lastPage < UInt64(Int.max / newest.pageSize) else {
            throw Damage(path: path, problem: "its meta page names an impossible last page (\(newest.lastPage))")
        }
        let pagesUsed = Int(newest.lastPage) + 1
        let needed = pagesUsed * newest.pageSize
        guard size >= needed else {
            throw Damage(path: path, problem: "it is \(size) bytes, but its last committed transaction uses \(needed) bytes (\(pagesUsed) pages of \(newest.pageSize)): the file was truncated, and \(needed - size) bytes are missing")
        }
        return DataFile(bytes: size, pageSize: newest.pageSize, pagesUsed: pagesUsed)
    }
}
