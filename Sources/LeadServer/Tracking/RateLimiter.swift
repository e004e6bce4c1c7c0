import Foundation

/// A token bucket per API key: the key's rate in messages a second, and bursts of up to a
/// second's worth. A request that would overdraw its key's bucket takes nothing and is told
/// when to retry.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    init() {}

    /// `nil` when `count` messages may go now at `rate` a second (and they are counted), else
    /// the seconds to wait before retrying.
    func take(_ count: Int, for key: String, rate: Double, now: Double = ProcessInfo.processInfo.systemUptime) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        var bucket = buckets[key] ?? (tokens: rate, at: now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        let needed = Double(count)
        guard bucket.tokens >= needed || (bucket.tokens >= rate && needed > rate) else {
            buckets[key] = bucket
            return max(1, Int(((min(needed, rate) - bucket.tokens) / rate).rounded(.up)))
        }
        bucket.tokens -= needed
        buckets[key] = bucket
        return nil
    }
}
