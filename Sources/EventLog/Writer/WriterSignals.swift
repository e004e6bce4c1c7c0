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
        case sequencer, chainer, committer, syncer
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
        // (Timed waits measure on the monotonic clock: a change of the wall clock must not
        // stretch or skip them.)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        for index in Waiter.allCases.indices {
            (conditions + index).initialize(to: pthread_cond_t())
            pthread_cond_init(conditions + index, &attributes)
        }
        pthread_condattr_destroy(&attributes)
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

    /// `wait`, until at most `deadline` (`deadline(after:)`); false once the deadline passed.
    func wait(_ waiter: Waiter, until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(conditions + waiter.rawValue, mutex, &deadline) != ETIMEDOUT
    }

    /// The monotonic clock's time `microseconds` from now, for `wait(_:until:)`.
    static func deadline(after microseconds: Int) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int(now.tv_nsec) + microseconds * 1_000
        now.tv_sec += nanoseconds / 1_000_000_000
        now.tv_nsec = nanoseconds % 1_000_000_000
        return now
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
