public import BlobStore
public import Handlers
public import Logging
import Metrics
public import Prometheus
import Synchronization
import WebSocketCore

/// The HTTP side beside `/rpc`: what every connection's ``RESTResponder`` shares.
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
        readiness: Readiness, metricsRegistry: PrometheusCollectorRegistry?, logger: Logger
    ) {
        self.domain = domain
        self.blobs = blobs
        self.janitor = janitor
        self.configuration = configuration
        self.readiness = readiness
        self.metricsRegistry = metricsRegistry
        self.logger = logger
    }

    /// The bridge's handler for one connection, which the HTTP edge adds at the connection's
    /// first request that is not an upgrade.
    public func makeResponder() -> RESTResponder {
        RESTResponder(bridge: self)
    }

    /// Whether a page from `origin` may call the bridge: the server's own pages (the origin of the
    /// request's `Host` or of the public URL, loopback aliases included, as for the WebSocket
    /// upgrade) and the configured origins.
    func isAllowed(origin: String, host: [String]) -> Bool {
        WebSocketHandshake.isAllowed(origin: origin, host: host, allowedOrigins: self.configuration.allowedOrigins,
                                     serverOrigin: self.configuration.serverOrigin?.current)
    }
}
