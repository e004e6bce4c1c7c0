import Foundation
import Synchronization

/// Appends run side by side (they share the log's group commit); publishing rules and
/// applying a rescore run alone, because they rebuild the projections and switch their
/// tables (see `LeadStore.rebuildProjections`), which no append may cross.
/// (A lock rather than an actor: every append passes here, and an actor costs each of them
/// two hops between executors when nothing is running alone, which is nearly always.)
final class WriteGate: Sendable {
    private struct State {
        var appends = 0
        var exclusive = false
        /// Callers waiting to run alone: appends that come after them wait too, so that a
        /// steady flow of appends cannot keep a rules publish out for ever.
        var queuedAlone = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }

    private let state = Mutex(State())

    func withAppend<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter { state in
            guard !state.exclusive && state.queuedAlone == 0 else { return false }
            state.appends += 1
            return true
        }
        defer { leave { $0.appends -= 1 } }
        return try await body()
    }

    func alone<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        state.withLock { $0.queuedAlone += 1 }
        await enter { state in
            guard !state.exclusive && state.appends == 0 else { return false }
            state.queuedAlone -= 1
            state.exclusive = true
            return true
        }
        defer { leave { $0.exclusive = false } }
        return try await body()
    }

    /// Returns once `admit` has let the caller in, waiting for a `leave` between tries.
    private func enter(_ admit: (inout State) -> Bool) async {
        if state.withLock({ admit(&$0) }) { return }
        while true {
            let admitted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool in
                    if admit(&state) { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if now { continuation.resume(returning: true) }
            }
            if admitted { return }
        }
    }

    /// Every waiter tries again.
    private func leave(_ update: (inout State) -> Void) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            update(&state)
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in woken { continuation.resume(returning: false) }
    }
}

/// Runs blocking store work (a rebuild, a rescore) on a thread of its own, off the
/// concurrency pool's few threads.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
