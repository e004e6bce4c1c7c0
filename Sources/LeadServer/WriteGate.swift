import Foundation

/// Appends run side by side (they share the log's group commit); publishing rules and
/// applying a rescore run alone, because they rebuild the projections and switch their
/// tables (see `LeadStore.rebuildProjections`), which no append may cross.
actor WriteGate {
    private var appends = 0
    private var exclusive = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func withAppend<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        while exclusive { await park() }
        appends += 1
        defer {
            appends -= 1
            wakeAll()
        }
        return try await body()
    }

    func alone<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        while exclusive || appends > 0 { await park() }
        exclusive = true
        defer {
            exclusive = false
            wakeAll()
        }
        return try await body()
    }

    private func park() async {
        await withCheckedContinuation { waiting.append($0) }
    }

    private func wakeAll() {
        let woken = waiting
        waiting = []
        for continuation in woken { continuation.resume() }
    }
}

/// Runs blocking store work (a rebuild, a rescore) on a thread of its own, off the
/// concurrency pool's few threads.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
