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
    @Option(name: .customLong("backup-dir"), help: ArgumentHelp(
        "Where POST /v1/admin/backup may write backups: each into a new directory directly below this one, named by the request (created if missing; without it, the route is refused).",
        valueName: "DIR"))
    var backupDirectory: String?
    @Option(name: .customLong("tracking-mapping"), help: "A YAML or JSON document mapping tracking messages to events (Schemas/tracking-mapping.schema.json); the built-in default otherwise.")
    var trackingMapping: String?
    @Option(name: .customLong("tracking-max-message-bytes"), help: "The largest tracking message (400 past it).")
    var trackingMaxMessageBytes = 32 << 10
    @Option(name: .customLong("tracking-max-batch-bytes"), help: "The largest tracking batch body, inflated (400 past it).")
    var trackingMaxBatchBytes = 4 << 20
    @Option(name: .customLong("tracking-rate"), help: "Tracking messages a second per write key (429 with Retry-After past it); no limit when absent.")
    var trackingRate: Double?
    @Option(name: .customLong("stream-max-lag"), help: "A stream's consumer falls behind past this many positions behind the log's head while a write to it waits (see --stream-stall-seconds); it is then let go with where to resume.")
    var streamMaxLag: UInt64 = 10_000
    @Option(name: .customLong("stream-stall-seconds"), help: "How long a write to a stream may wait for its consumer to read, with the consumer past --stream-max-lag, before it is let go.")
    var streamStallSeconds = 10.0

    func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be from 1 to 65535, not \(port)") }
        guard (1_024...(1 << 30)).contains(maxBodyBytes) else { throw ValidationError("--max-body-bytes must be from 1024 to 1073741824, not \(maxBodyBytes)") }
        guard (1...1_000_000).contains(maxEvents) else { throw ValidationError("--max-events must be from 1 to 1000000, not \(maxEvents)") }
        if let backupDirectory {
            guard !backupDirectory.isEmpty else { throw ValidationError("--backup-dir is empty: give the directory backups are written under") }
            if BackupCommand.samePath(backupDirectory, storeOptions.path) {
                throw ValidationError("--backup-dir is the store itself (\(storeOptions.path)): give a directory of its own")
            }
        }
        guard (256...(1 << 30)).contains(trackingMaxMessageBytes) else { throw ValidationError("--tracking-max-message-bytes must be from 256 to 1073741824, not \(trackingMaxMessageBytes)") }
        guard (trackingMaxMessageBytes...(1 << 30)).contains(trackingMaxBatchBytes) else {
            throw ValidationError("--tracking-max-batch-bytes must be from --tracking-max-message-bytes to 1073741824, not \(trackingMaxBatchBytes)")
        }
        if let trackingRate, !(trackingRate >= 1 && trackingRate.isFinite) { throw ValidationError("--tracking-rate must be at least 1 message a second") }
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
        let logOutput = BufferedLogHandler.Output()
        defer { logOutput.flush() }
        var logger = Logger(label: "leadledger") { BufferedLogHandler(label: $0, output: logOutput) }
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
        if let backupDirectory {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: backupDirectory, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw CLIError("--backup-dir \(backupDirectory) exists and is not a directory") }
            } else {
                do {
                    try FileManager.default.createDirectory(atPath: backupDirectory, withIntermediateDirectories: true)
                } catch {
                    throw CLIError("cannot create --backup-dir \(backupDirectory): \(error)")
                }
            }
            configuration.backupDirectory = backupDirectory
        }
        if let trackingMapping {
            do {
                configuration.tracking.mapping = try TrackingMapping.load(path: trackingMapping)
            } catch {
                throw CLIError("\(error)")
            }
        }
        configuration.tracking.maxMessageBytes = trackingMaxMessageBytes
        configuration.tracking.maxBatchBytes = trackingMaxBatchBytes
        configuration.tracking.messagesPerSecond = trackingRate
        configuration.limits.streamMaxLag = streamMaxLag
        configuration.limits.streamStallTimeout = .milliseconds(Int64(streamStallSeconds * 1000))
        let application = buildApplication(configuration, store: store, keys: keys, metrics: ServerMetrics(registry: registry), logger: logger)
        printToStderr("serving the store at \(storeOptions.path) on \(address) (SIGTERM or Ctrl-C to stop)")
        try await application.runService()
        logOutput.flush()
        printToStderr("stopped: every request answered and committed")
    }
}
