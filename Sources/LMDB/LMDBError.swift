internal import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of the LMDB layer: what went wrong (a named code) and which call
/// reported it. `MDB_NOTFOUND` never becomes an error: lookups return `nil` instead.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case keyExists
        case pageNotFound
        case corrupted
        case panic
        case versionMismatch
        case invalid
        case mapFull
        case tablesFull
        case readersFull
        case tlsFull
        case transactionFull
        case cursorFull
        case pageFull
        case mapResized
        case incompatible
        case badReaderSlot
        case badTransaction
        case badValueSize
        case badTable
        /// An `errno` value from the operating system (ENOENT, EACCES, ENOSPC, ...).
        case system(Int32)
        /// The environment at this path is already open in this process: LMDB forbids
        /// opening one environment twice in a process.
        case alreadyOpen
        /// A transaction or cursor was used after its scope ended, or the environment is closed.
        case closed
        /// The data file is damaged (truncated, or not an LMDB file): its description.
        case damaged(String)
        /// There is no environment to open read-only at this path.
        case notFound
        /// A write in an environment opened read-only.
        case readOnly
    }

    public let code: Code
    /// The C function (or wrapper operation) that reported the error.
    public let call: String

    public init(code: Code, call: String) {
        self.code = code
        self.call = call
    }

    init(returnCode rc: Int32, call: String) {
        self.init(code: Code(returnCode: rc), call: call)
    }

    public var description: String {
        switch code {
        case .alreadyOpen:
            return "\(call): the environment is already open in this process"
        case .closed:
            return "\(call): the environment is closed"
        case .damaged(let problem):
            return problem
        case .notFound:
            return "\(call): there is no LMDB environment there"
        case .readOnly:
            return "\(call): the environment is open read-only"
        case .system(let errno):
            return "\(call): \(Self.words(errno)) (errno \(errno))"
        default:
            return "\(call): \(String(cString: mdb_strerror(code.returnCode)))"
        }
    }
}

extension LMDBError {
    /// An operating-system error in words: what an operator reads, not a constant's name.
    public static func words(_ errno: Int32) -> String {
        switch errno {
        case ENOSPC: return "no space left on device"
        case EDQUOT: return "disk quota exceeded"
        case EIO: return "I/O error"
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "read-only file system"
        case ENOENT: return "no such file or directory"
        default: return String(cString: mdb_strerror(errno))
        }
    }
}

extension LMDBError.Code {
    init(returnCode rc: Int32) {
        switch rc {
        case MDB_KEYEXIST: self = .keyExists
        case MDB_PAGE_NOTFOUND: self = .pageNotFound
        case MDB_CORRUPTED: self = .corrupted
        case MDB_PANIC: self = .panic
        case MDB_VERSION_MISMATCH: self = .versionMismatch
        case MDB_INVALID: self = .invalid
        case MDB_MAP_FULL: self = .mapFull
        case MDB_DBS_FULL: self = .tablesFull
        case MDB_READERS_FULL: self = .readersFull
        case MDB_TLS_FULL: self = .tlsFull
        case MDB_TXN_FULL: self = .transactionFull
        case MDB_CURSOR_FULL: self = .cursorFull
        case MDB_PAGE_FULL: self = .pageFull
        case MDB_MAP_RESIZED: self = .mapResized
        case MDB_INCOMPATIBLE: self = .incompatible
        case MDB_BAD_RSLOT: self = .badReaderSlot
        case MDB_BAD_TXN: self = .badTransaction
        case MDB_BAD_VALSIZE: self = .badValueSize
        case MDB_BAD_DBI: self = .badTable
        default: self = .system(rc)
        }
    }

    var returnCode: Int32 {
        switch self {
        case .keyExists: return MDB_KEYEXIST
        case .pageNotFound: return MDB_PAGE_NOTFOUND
        case .corrupted: return MDB_CORRUPTED
        case .panic: return MDB_PANIC
        case .versionMismatch: return MDB_VERSION_MISMATCH
        case .invalid: return MDB_INVALID
        case .mapFull: return MDB_MAP_FULL
        case .tablesFull: return MDB_DBS_FULL
        case .readersFull: return MDB_READERS_FULL
        case .tlsFull: return MDB_TLS_FULL
        case .transactionFull: return MDB_TXN_FULL
        case .cursorFull: return MDB_CURSOR_FULL
        case .pageFull: return MDB_PAGE_FULL
        case .mapResized: return MDB_MAP_RESIZED
        case .incompatible: return MDB_INCOMPATIBLE
        case .badReaderSlot: return MDB_BAD_RSLOT
        case .badTransaction: return MDB_BAD_TXN
        case .badValueSize: return MDB_BAD_VALSIZE
        case .badTable: return MDB_BAD_DBI
        case .system(let errno): return errno
        case .alreadyOpen, .closed, .damaged, .notFound, .readOnly: return MDB_INVALID
        }
    }
}

/// Throws an `LMDBError` for a non-zero return code. `MDB_NOTFOUND` must be handled by the
/// caller before this (it is not an error in this layer).
@inline(__always)
func check(_ rc: Int32, _ call: @autoclosure () -> String) throws(LMDBError) {
    if rc != MDB_SUCCESS {
        throw LMDBError(returnCode: rc, call: call())
    }
}
