public import BlobStore
public import Handlers
public import Logging
import Metrics
public import Prometheus
import Synchronization

/// The HTTP side beside `/rpc`: what every connection's ``RESTConnection`` shares.
///
/// It only translates: who may do what is decided by the same ``Handlers/Domain`` calls as the
/// JSON-RPC methods; bytes go to and from the ``BlobStore/BlobStore``.
public final class RESTBridge: Sendable {
    let domain: Domain
    let blobs: any BlobStore
    let janitor: BlobJanitor
    let configuration: RESTConfiguration
    let readiness: Readiness
    let metricsRegistry: PrometheusCollectorRegistry?
    let openRPCDocument: [UInt8]
    let logger: Logger
    let uploadBytes = Counter(label: "faros_upload_bytes_total")
    let downloadBytes = Counter(label: "faros_download_bytes_total")
    private let scrapeHooks = Mutex<[@Sendable () -> Void]>([])

    /// Runs `hook` before each `/metrics` answer: gauges read at scrape time (open
    /// connections, signed-in sessions) set themselves there.
    public func onScrape(_ hook: @escaping @Sendable () -> Void) {
        scrapeHooks.withLock { $0.append(hook) }
    }

    func runScrapeHooks() {
        for hook in scrapeHooks.withLock({ $0 }) { hook() }
    }

    public init(
        domain: Domain, blobs: any BlobStore, janitor: BlobJanitor, configuration: RESTConfiguration,
        readiness: Readiness, metricsRegistry: PrometheusCollectorRegistry?, openRPCDocument: [UInt8], logger: Logger
    ) {
        self.domain = domain
        self.blobs = blobs
        self.janitor = janitor
        self.configuration = configuration
        self.readiness = readiness
        self.metricsRegistry = metricsRegistry
        self.openRPCDocument = openRPCDocument
        self.logger = logger
    }

    /// The state of one connection's HTTP requests; `done` is called on the event loop after
    /// each answer that keeps the connection open.
    public func makeConnection(connectionID: UInt64, done: @escaping (_ keepAlive: Bool) -> Void) -> RESTConnection {
        RESTConnection(bridge: self, connectionID: connectionID, done: done)
    }

    /// The origin's CORS headers when it is allowed; nil when it is not.
    func isAllowed(origin: String) -> Bool {
        configuration.allowedOrigins.contains(origin.lowercased())
    }
}
