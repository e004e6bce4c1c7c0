import ArgumentParser
import Foundation
import Hummingbird
import LeadEngine
import LeadServer
import Logging
import Metrics
import Prometheus

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the store over HTTP: the API, health and Prometheus metrics.",
        discussion: """
            Holds the store's writer lock for as long as it runs (CLI reads keep working \
            beside it; a CLI write says the store is served, and by whom). Requests carry \
            Authorization: Bearer <key> (leadledger keys create). SIGTERM or SIGINT stops it \
            gracefully: it stops accepting, finishes the requests in flight and their commits, \
            and exits 0.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on.") var port = 8080
    @Option(name: .customLong("max-body-bytes"), help: "The largest request body POST /v1/events takes (413 past it).")
    var maxBodyBytes = 5 << 20
    @Option(name: .customLong("max-events"), help: "The most events one request may carry (413 past it).")
    var maxEvents = 10_000
    @Option(name: .customLong("stream-max-lag"), help: "A stream's consumer falls behind past this many positions behind the log's head while a write to it waits (see --stream-stall-seconds); it is then let go with where to resume.")
    var streamMaxLag: UInt64 = 10_000
    @Option(name: .customLong("stream-stall-seconds"), help: "How long a write to a stream may wait for its consumer to read, with the consumer past --stream-max-lag, before it is let go.")
    var streamStallSeconds = 10.0

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be from 1 to 65535, not \(port)") }
        guard (1_024...(1 << 30)).contains(maxBodyBytes) else { throw ValidationError("--max-body-bytes must be from 1024 to 1073741824, not \(maxBodyBytes)") }
        guard (1...1_000_000).contains(maxEvents) else { throw ValidationError("--max-events must be from 1 to 1000000, not \(maxEvents)") }
        guard (0.1...86_400).contains(streamStallSeconds) else { throw ValidationError("--stream-stall-seconds must be from 0.1 to 86400, not \(streamStallSeconds)") }
    }

    /// The CLI is synchronous; the server runs on its own threads (swift-nio's and the
    /// concurrency pool's) while this one waits for it to stop.
    func run() throws {
        let outcome = Outcome()
        let stopped = DispatchSemaphore(value: 0)
        let command = self
        Task {
            do {
                try await command.serve()
            } catch {
                outcome.error = error
            }
            stopped.signal()
        }
        stopped.wait()
        if let error = outcome.error { throw error }
    }

    private final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }

    func serve() async throws {
        let address = "http://\(host):\(port)"
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "leadledger")
        logger.logLevel = .info
        let store = try storeOptions.openForWriting(holding: "serving \(address)")
        defer { store.close() }
        let keys = KeyStore(directory: storeOptions.path)
        if (try? keys.list().isEmpty) ?? true {
            printToStderr("no API keys yet: every request but /healthz, /readyz and /metrics will be refused; make one with: leadledger keys create --role ingest --store \(storeOptions.path)")
        }
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.limits.maxBodyBytes = maxBodyBytes
        configuration.limits.maxEventsPerRequest = maxEvents
        configuration.limits.streamMaxLag = streamMaxLag
        configuration.limits.streamStallTimeout = .milliseconds(Int64(streamStallSeconds * 1000))
        let application = buildApplication(configuration, store: store, keys: keys, metrics: ServerMetrics(registry: registry), logger: logger)
        printToStderr("serving the store at \(storeOptions.path) on \(address) (SIGTERM or Ctrl-C to stop)")
        try await application.runService()
        printToStderr("stopped: every request answered and committed")
    }
}
