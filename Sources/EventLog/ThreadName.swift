import Foundation

/// Names the calling thread, for `top -H` and `perf` (at most 15 bytes reach the OS).
///
/// On Linux, Foundation's `Thread.current.name = …` reaches the OS only once the thread that
/// started this one has stored its handle, and a new thread can get there first: it then
/// keeps the name it inherited from the thread that started it (a test saw a replay's writer
/// named after a dispatch worker). The kernel's file for the calling thread has no such race.
public func nameThisThread(_ name: String) {
    #if os(Linux)
    guard let file = fopen("/proc/thread-self/comm", "w") else { return }
    fputs(name, file)
    fclose(file)
    #else
    Thread.current.name = name
    #endif
}
