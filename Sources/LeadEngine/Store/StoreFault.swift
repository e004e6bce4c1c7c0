import EventLog
import LedgerSystem
import LMDB

/// A store failure in the words an operator needs: the cause (no space left, an I/O error,
/// permission), the store's path, and the free space where it matters.
public enum StoreFault {
    public static func describe(_ error: any Error, store: String) -> String {
        guard let failure = error as? LMDBError else { return String(describing: error) }
        switch failure.code {
        case .system(let code):
            let words = LMDBError.words(code)
            guard [ENOSPC, EDQUOT, EIO].contains(code), let free = System.freeBytes(atPath: store) else {
                return "\(words) on \(store)"
            }
            // LMDB reports a write that found the disk full at commit as EIO as often as
            // ENOSPC: the free space tells them apart.
            let likelyFull = code == EIO && free < 64 << 20 ? ": the disk is most likely full" : ""
            return "\(words) on \(store) (\(sizeInWords(free)) free\(likelyFull))"
        case .mapFull:
            return "the store at \(store) reached its largest map size"
        default:
            return String(describing: failure)
        }
    }

    /// What a failed append left stored, for its answer: nothing, unless its commit was made
    /// but the disk did not confirm it (`LogError.notDurable`).
    public static func whatWasStored(_ error: any Error) -> String {
        guard case LogError.notDurable? = error as? LogError else { return "nothing of it was stored" }
        return "it may have been stored (a retry with the same ids stores nothing twice)"
    }

    static func sizeInWords(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
