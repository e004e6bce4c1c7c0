import EventLog
import Hummingbird
import LeadEngine
import Logging

/// How a server listens and what it accepts.
public struct ServerConfiguration: Sendable {
    public struct Limits: Sendable {
        /// The largest request body (`POST /v1/events`): larger is a 413.
        public var maxBodyBytes = 5 << 20
        /// The most events in one request: more is a 413.
        public var maxEventsPerRequest = 10_000
        /// A stream's consumer falls behind, and is let go with where to resume, when it is
        /// more than this many positions behind the log's head...
        public var streamMaxLag: UInt64 = 10_000
        /// ...while a write to it has waited this long for its socket to drain.
        public var streamStallTimeout: Duration = .seconds(10)
        public init() {}
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var limits = Limits()
    /// Where `POST /v1/admin/backup` may write backups (one new directory below it per
    /// backup); nil refuses the route.
    public var backupDirectory: String?
    public var tracking = TrackingConfiguration()
    public init() {}
}

/// The routes, their middleware and their controllers, over one open store.
public func buildRouter(
    store: LeadStore, keys: KeyStore, metrics: ServerMetrics, limits: ServerConfiguration.Limits, backupDirectory: String? = nil,
    tracking: TrackingConfiguration = TrackingConfiguration()
) -> Router<LeadRequestContext> {
    let router = Router(context: LeadRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    HealthController(store: store, metrics: metrics).add(to: router)
    let gate = WriteGate()
    let dashboard = router.group("").add(middleware: AuthMiddleware(keys: keys, needed: .read, browser: true))
    DashboardController(store: store).add(to: dashboard)

    let ingest = router.group("v1").add(middleware: AuthMiddleware(keys: keys, needed: .ingest))
    EventsController(store: store, limits: limits, metrics: metrics, gate: gate).add(to: ingest)
    // (Its own authentication: the write key may be in the body.)
    TrackingController(store: store, keys: keys, configuration: tracking, metrics: metrics, gate: gate).add(to: router)

    let read = router.group("v1").add(middleware: AuthMiddleware(keys: keys, needed: .read))
    let signal = CommitSignal(head: (try? store.log.lastPosition) ?? 0)
    store.log.observeCommits { commit in
        signal.committed(through: commit.lastPosition)
        metrics.recordCommit(commit)
    }
    StreamController(store: store, signal: signal, metrics: metrics, limits: limits).add(to: read)
    LeadsController(store: store).add(to: read)
    AccountsController(store: store).add(to: read)
    AuditController(store: store).add(to: read)
    LogController(store: store).add(to: read)
    ReportsController(store: store).add(to: read)
    let admin = router.group("v1").add(middleware: AuthMiddleware(keys: keys, needed: .admin))
    RulesController(store: store, gate: gate, keys: keys).add(read: read, admin: admin)
    BackupController(store: store, root: backupDirectory, gate: gate).add(to: admin)
    MergeController(store: store, gate: gate).add(to: admin)
    EraseController(store: store, gate: gate).add(to: admin)
    return router
}

/// The application: the router on the configured address. The caller owns the store (opened
/// for writing: the server holds the store's writer lock) and closes it after the
/// application has run; `runService()` stops gracefully on SIGTERM and SIGINT (in-flight
/// requests finish, their commits land).
public func buildApplication(
    _ configuration: ServerConfiguration, store: LeadStore, keys: KeyStore, metrics: ServerMetrics = ServerMetrics(), logger: Logger
) -> some ApplicationProtocol {
    let router = buildRouter(
        store: store, keys: keys, metrics: metrics, limits: configuration.limits, backupDirectory: configuration.backupDirectory,
        tracking: configuration.tracking)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "leadledger"),
        logger: logger)
}
