import Foundation

#if canImport(Glibc)
import CMalloc
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating-system calls LeadLedger makes outside LMDB, in one place (as swift-nio keeps
/// its system calls): files read and written, thread names and priorities, terminals, memory.
/// Callers get Swift types and errors that carry the path and the `errno`.
public enum System {
    /// A file could not be opened, read or written.
    public struct FileError: Error, CustomStringConvertible, Sendable {
        public enum Operation: Sendable { case read, write }
        public let path: String
        public let errno: Int32
        public let operation: Operation

        public init(path: String, errno: Int32, operation: Operation) {
            self.path = path
            self.errno = errno
            self.operation = operation
        }

        public var description: String {
            "cannot \(operation == .read ? "read" : "write") \(path): \(System.describe(errno))"
        }
    }

    /// `strerror`'s words for an `errno`.
    public static func describe(_ code: Int32) -> String {
        // ("No space left on device" → "no space left on device": it goes inside a sentence.)
        let words = String(cString: strerror(code))
        return words.prefix(1).lowercased() + words.dropFirst()
    }

    // MARK: Memory

    /// Has the C allocator keep 64 MiB of freed memory at the top of each heap instead of
    /// giving it back to the system at once. The log's writer frees each group's leads on one
    /// thread while the next group allocates on another, so the writer threads' heaps shrank
    /// and grew again with every group: about 100,000 `mprotect` calls, and as many pages
    /// zeroed again, in an ingest of 1,000,000 new leads, a tenth of its CPU. Call once, at
    /// the start of the process (it also fixes the size above which blocks are mapped on
    /// their own at glibc's default, 128 KiB).
    public static func keepFreedHeapForReuse() {
        #if canImport(Glibc)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }

    // MARK: Threads

    /// Names the calling thread, for `top -H` and `perf` (at most 15 bytes reach the OS).
    ///
    /// On Linux, Foundation's `Thread.current.name = …` reaches the OS only once the thread that
    /// started this one has stored its handle, and a new thread can get there first: it then
    /// keeps the name it inherited (a test saw a replay's writer named after a dispatch
    /// worker). The kernel's file for the calling thread has no such race.
    public static func nameThisThread(_ name: String) {
        #if os(Linux)
        guard let file = fopen("/proc/thread-self/comm", "w") else { return }
        fputs(name, file)
        fclose(file)
        #endif
    }

    /// Lowers the calling thread's scheduling priority (nice 10), so that the log's writer runs
    /// first whenever it has work. On Linux a thread's nice value is its own, not the process's.
    public static func lowerThisThreadsPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    // MARK: Standard descriptors

    /// What the process found of its standard descriptors (0, 1, 2) when it started.
    public struct StandardDescriptors: Sendable {
        /// The descriptors that were closed; each is now /dev/null.
        public let closed: [Int32]
        /// A closed descriptor that could not be occupied, and the `errno` of opening /dev/null.
        public let failure: (descriptor: Int32, errno: Int32)?
    }

    /// The standard descriptors that were closed when the process started, each occupied with
    /// /dev/null the first time this is read — which `main` does before anything else.
    ///
    /// A descriptor the caller closed (`leadledger ingest <&-`, `2>&-`) is the lowest free
    /// number, so the next file opened gets it: LMDB's lock file became standard input and
    /// was ingested, and messages to a closed stderr were written over the start of
    /// lock.mdb or into data.mdb. With /dev/null in their place no file gets those numbers;
    /// `standardInputWasClosed` lets the commands that read standard input refuse.
    public static let standardDescriptorsAtStart: StandardDescriptors = occupyClosedStandardDescriptors()

    /// Whether standard input was closed when the process started (it reads as empty now).
    public static var standardInputWasClosed: Bool { standardDescriptorsAtStart.closed.contains(STDIN_FILENO) }

    private static func occupyClosedStandardDescriptors() -> StandardDescriptors {
        var closed: [Int32] = []
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            guard fcntl(descriptor, F_GETFD) == -1, errno == EBADF else { continue }
            // (The lowest free number: this one, unless a lower one was closed and failed.)
            let opened = open("/dev/null", descriptor == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            guard opened >= 0 else { return StandardDescriptors(closed: closed, failure: (descriptor, errno)) }
            if opened != descriptor {
                let moved = dup2(opened, descriptor)
                let code = errno
                close(opened)
                guard moved == descriptor else { return StandardDescriptors(closed: closed, failure: (descriptor, code)) }
            }
            closed.append(descriptor)
        }
        return StandardDescriptors(closed: closed, failure: nil)
    }

    // MARK: Terminals and memory

    public static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    public static let standardInput: Int32 = STDIN_FILENO
    public static let standardOutput: Int32 = STDOUT_FILENO
    public static let standardError: Int32 = STDERR_FILENO

    /// The current resident set (VmRSS) in MiB, for locating memory peaks; 0 where unknown.
    public static func residentMiB() -> Double {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmRSS:") else { continue }
            let kb = text.dropFirst(6).split(separator: " ").first.flatMap { Double($0) } ?? 0
            return kb / 1024
        }
        return 0
    }

    /// The process's peak resident set in MiB.
    public static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_maxrss) / 1024
    }

    // MARK: Processes and file systems

    public static var processID: Int32 { getpid() }

    /// The free bytes of the file system holding `path` (for unprivileged users), if known.
    public static func freeBytes(atPath path: String) -> UInt64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// An exclusive advisory lock on a file (`flock`), held until `unlock` or until the process
    /// ends — also when it is killed, so a crashed holder never leaves a stale lock. What the
    /// holder writes into the file (`describeHolder`) tells waiting processes who holds it.
    public final class FileLock: @unchecked Sendable {
        public let path: String
        private let descriptor: Int32

        /// Opens (creating if needed) the lock file; takes no lock yet.
        public init(path: String) throws(FileError) {
            let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard opened >= 0 else { throw FileError(path: path, errno: errno, operation: .write) }
            self.path = path
            descriptor = opened
        }

        deinit {
            close(descriptor)
        }

        /// Takes the lock if it is free; false if another process holds it.
        public func tryLock() -> Bool {
            while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                if errno == EINTR { continue }
                return false
            }
            return true
        }

        /// Waits for the lock.
        public func lock() throws(FileError) {
            while flock(descriptor, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno, operation: .write)
            }
        }

        public func unlock() {
            _ = flock(descriptor, LOCK_UN)
        }

        /// What the holder wrote of itself (one line), or nil.
        public func holder() -> String? {
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }

        /// Writes who holds the lock (call it once the lock is taken).
        public func describeHolder(_ text: String) {
            _ = ftruncate(descriptor, 0)
            let bytes = Array((text + "\n").utf8)
            _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
    }

    // MARK: Reading

    /// A file opened for reading (or standard input), read in blocks.
    public final class InputFile {
        public let path: String
        private let descriptor: Int32
        private let owned: Bool
        /// The size of a regular file, else nil (pipes, terminals, devices).
        public let regularFileSize: Int?

        /// Opens `path` for reading; a directory is refused with `EISDIR`.
        public init(path: String) throws(FileError) {
            let opened = open(path, O_RDONLY)
            guard opened >= 0 else { throw FileError(path: path, errno: errno, operation: .read) }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw FileError(path: path, errno: EISDIR, operation: .read)
            }
            self.path = path
            descriptor = opened
            owned = true
            regularFileSize = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        }

        /// Standard input, named `name` in errors.
        public init(standardInputNamed name: String) {
            path = name
            descriptor = STDIN_FILENO
            owned = false
            regularFileSize = nil
        }

        deinit {
            if owned { close(descriptor) }
        }

        /// Reads at most `count` bytes into `buffer`; 0 at the end of the input.
        public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(FileError) -> Int {
            while true {
                let got = systemRead(descriptor, buffer, count)
                if got >= 0 { return got }
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno, operation: .read)
            }
        }
    }

    // MARK: Writing

    /// Flushes a file, or a directory's entries (after files were created or renamed in it),
    /// to the disk (`fsync`).
    public static func synchronize(path: String) throws(FileError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError(path: path, errno: errno, operation: .write) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileError(path: path, errno: errno, operation: .write) }
    }

    /// A file created (or truncated) for writing, buffered by the C library.
    public final class OutputFile {
        public let path: String
        private var handle: UnsafeMutablePointer<FILE>?

        public init(creating path: String) throws(FileError) {
            guard let opened = fopen(path, "w") else { throw FileError(path: path, errno: errno, operation: .write) }
            self.path = path
            handle = opened
        }

        deinit {
            if let handle { fclose(handle) }
        }

        public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
            guard let handle else { throw FileError(path: path, errno: EBADF, operation: .write) }
            guard bytes.isEmpty || fwrite(bytes.baseAddress, 1, bytes.count, handle) == bytes.count else {
                throw FileError(path: path, errno: errno, operation: .write)
            }
        }

        public func write(_ bytes: [UInt8]) throws(FileError) {
            let result: Result<Void, FileError> = bytes.withUnsafeBytes { buffer in
                Result { () throws(FileError) in try write(buffer) }
            }
            try result.get()
        }

        /// Flushes and closes the file; a failed flush (a full disk) is an error.
        public func close() throws(FileError) {
            guard let handle else { return }
            self.handle = nil
            guard fclose(handle) == 0 else { throw FileError(path: path, errno: errno, operation: .write) }
        }
    }
}

/// `read(2)`, under a name that the method `InputFile.read` does not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
