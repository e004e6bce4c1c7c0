import EventLog
import LeadDomain
import LeadEngine

/// A LeadStore in its own temporary directory, closed and removed with this value.
public final class TestStore: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let store: LeadStore

    public init(_ label: String = "store", options: LeadStore.Options = LeadStore.Options()) throws {
        directory = TemporaryDirectory(label)
        store = try LeadStore(path: directory.file("store"), options: options)
    }

    deinit {
        store.close()
    }

    /// Appends and returns the outcomes.
    @discardableResult
    public func append(_ events: Envelope...) throws -> [AppendOutcome] {
        try store.append(events)
    }

    @discardableResult
    public func append(_ events: [Envelope]) throws -> [AppendOutcome] {
        try store.append(events)
    }
}
