#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer's lock, with a condition for each of its waiters, so that each change wakes only
/// the thread that waits for it. (One condition broadcast on every change woke all three
/// threads for each request a server submitted: two of them to find nothing to do.)
final class WriterSignals: @unchecked Sendable {
    enum Waiter: Int, CaseIterable {
        case sequencer, chainer, committer
        /// `Writer.stop()`'s caller.
        case stopper
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        conditions = .allocate(capacity: Waiter.allCases.count)
        for index in Waiter.allCases.indices {
            (conditions + index).initialize(to: pthread_cond_t())
            pthread_cond_init(conditions + index, nil)
        }
    }

    deinit {
        for index in Waiter.allCases.indices { pthread_cond_destroy(conditions + index) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits (with the lock held) until `waiter` is signalled; callers check their condition
    /// again after, as with any condition variable.
    func wait(_ waiter: Waiter) {
        pthread_cond_wait(conditions + waiter.rawValue, mutex)
    }

    /// Wakes `waiter` if it waits (cheap when it does not: no system call).
    func signal(_ waiter: Waiter) {
        pthread_cond_signal(conditions + waiter.rawValue)
    }

    /// Wakes everyone: for the rare changes all of them look at (stopping, a thread ending).
    func signalAll() {
        for index in Waiter.allCases.indices { pthread_cond_broadcast(conditions + index) }
    }
}
