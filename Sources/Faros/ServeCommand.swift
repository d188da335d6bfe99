import ArgumentParser
import Foundation
import WebSocketCore
import Credentials
import Handlers
import HTTPEdge
import JSONRPC
import Logging
import Metrics
import NIOCore
import Prometheus
import BlobStore
import RESTBridge
import NIOPosix
import PubSub
import RPCServer
import ServiceLifecycle
import Storage
import WebApp
import WebPush
import WebSocketCore

#if canImport(Glibc)
import Glibc
import SystemTime
#endif

/// `faros serve`: runs the server until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server (the default subcommand).",
        discussion: "Durations take ms, s, m or h (`10s`, `1h30m`; a bare number is seconds); "
            + "sizes take bytes or KiB, MiB, GiB (`4MiB`). Booleans in variables: 1/true/yes/on, 0/false/no/off. "
            + "Every setting is a flag and an environment variable; the flag wins."
    )

    @Option(help: "Address to bind. (env: FAROS_HOST; default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free port, which is logged and printed. (env: FAROS_PORT; default: 8080)")
    var port: Int?

    @Option(help: "Base URL users reach the server at; its origin is always allowed. (env: FAROS_PUBLIC_URL; default: http://HOST:PORT, localhost when bound to 0.0.0.0)")
    var publicURL: String?

    @Option(help: "Comma-separated browser origins allowed besides the server's own. (env: FAROS_ALLOWED_ORIGINS; default: none)")
    var allowedOrigins: String?

    @Flag(inversion: .prefixedNo, help: "Serve the /echo WebSocket endpoint (conformance and load tests). (env: FAROS_ENABLE_ECHO; default: off)")
    var enableEcho: Bool?

    @Flag(inversion: .prefixedNo, help: "Negotiate permessage-deflate (RFC 7692) when clients offer it. (env: FAROS_PERMESSAGE_DEFLATE; default: on)")
    var permessageDeflate: Bool?

    @OptionGroup var storage: StorageOptions

    @Option(help: "Secret for signing access tokens (at least 32 bytes); instances sharing a database must share it. (env: FAROS_JWT_SECRET; default: generated once, kept in the data directory)")
    var jwtSecret: String?

    @Option(help: "How long an access token lives. (env: FAROS_TOKEN_TTL; default: 1h)")
    var tokenTTL: String?

    @Flag(inversion: .prefixedNo, help: "Rate limits on logins, registration, password reset and task creation. (env: FAROS_RATE_LIMITS; default: on)")
    var rateLimits: Bool?

    @Option(help: "Comma-separated CIDR blocks of reverse proxies whose X-Forwarded-For is believed. (env: FAROS_TRUSTED_PROXIES; default: none)")
    var trustedProxies: String?

    @Option(help: "Sender address of outgoing mail. (env: FAROS_MAIL_FROM; default: faros@HOST)")
    var mailFrom: String?

    @Option(help: "SMTP server for outgoing mail: smtp://[user:password@]host[:port][?starttls=try|required|off] or smtps://… (env: FAROS_SMTP_URL; default: none, mail goes to DATA_DIR/outbox as .eml files)")
    var smtpURL: String?

    @Option(help: "Longest one SMTP exchange may take, connection included; a slower server counts as down and the message is retried. (env: FAROS_SMTP_TIMEOUT; default: 60s)")
    var smtpTimeout: String?

    @Option(help: "PEM file of the certificate authorities that sign the SMTP server's certificate, for a private CA. (env: FAROS_SMTP_CA_FILE; default: the system's)")
    var smtpCAFile: String?

    @Option(help: "yescrypt cost of new password hashes, 1-11 (each step doubles time and memory; 7 = 64 MiB). Existing hashes are upgraded at login. (env: FAROS_PASSWORD_COST; default: 7)")
    var passwordCost: Int?

    @Option(help: "Largest message on /rpc, after decompression; larger closes with 1009. (env: FAROS_MAX_MESSAGE_BYTES; default: 1MiB)")
    var maxMessageBytes: String?

    @Option(help: "Largest JSON-RPC batch; larger is one -32013 error. (env: FAROS_MAX_BATCH; default: 50)")
    var maxBatch: Int?

    @Option(help: "Calls per second per session, as RATE or RATE/BURST; 0 disables. (env: FAROS_CALLS_PER_SECOND; default: 50/100)")
    var callsPerSecond: String?

    @Option(help: "Calls in flight per session before reading pauses. (env: FAROS_MAX_INFLIGHT; default: 32)")
    var maxInflight: Int?

    @Option(help: "Bytes queued to one session before it is closed with 1013. (env: FAROS_OUTBOUND_BUFFER_BYTES; default: 4MiB)")
    var outboundBufferBytes: String?

    @Option(help: "Most bytes the answer to one message may take for a signed-in session; each result past it is -32013. (env: FAROS_MAX_RESPONSE_BYTES; default: 4MiB)")
    var maxResponseBytes: String?

    @Option(help: "The same for an anonymous session. (env: FAROS_ANONYMOUS_MAX_RESPONSE_BYTES; default: 128KiB)")
    var anonymousMaxResponseBytes: String?

    @Option(help: "Time from connect to a complete request (head and body) or upgrade. (env: FAROS_HANDSHAKE_TIMEOUT; default: 10s)")
    var handshakeTimeout: String?

    @Option(help: "A session silent this long (no pong to our pings) is closed with 1008. (env: FAROS_IDLE_TIMEOUT; default: 60s)")
    var idleTimeout: String?

    @Option(help: "How long shutdown waits for in-flight calls. (env: FAROS_SHUTDOWN_GRACE; default: 10s)")
    var shutdownGrace: String?

    @Option(help: "Event-loop threads. (env: FAROS_EVENT_LOOP_THREADS; default: one per core)")
    var eventLoopThreads: Int?

    @Option(help: "Redis for live events and rate limits shared by several instances, redis://[:password@]host[:port][/db]; rediss:// is refused (no TLS in Debian's hiredis). (env: FAROS_REDIS_URL; default: none, in-process events)")
    var redisURL: String?

    @Option(help: "How far back events.subscribe's since may reach; older gets resync: true. (env: FAROS_REPLAY_WINDOW; default: 24h)")
    var replayWindow: String?

    @Option(help: "With Redis: how soon the presence of a stopped instance's sessions ends everywhere else, 3s to 10m. (env: FAROS_PRESENCE_TTL; default: 30s)")
    var presenceTTL: String?

    @Option(help: "How long a presence state (such as typing) lasts unless the client sends it again, 1s to 10m. (env: FAROS_PRESENCE_STATE_LIFETIME; default: 10s)")
    var presenceStateLifetime: String?

    @Option(help: "Web Push VAPID private key: the base64url P-256 scalar (as web-push generate-vapid-keys prints it); instances sharing a database must share it. (env: FAROS_VAPID_PRIVATE_KEY; default: generated once and kept in DATA_DIR/vapid-private-key)")
    var vapidPrivateKey: String?

    @Option(help: "Web Push VAPID contact, a mailto: or https: URL push services may use to reach the operator. (env: FAROS_VAPID_SUBJECT; default: mailto: the mail sender)")
    var vapidSubject: String?

    @Option(help: "How long a push may wait for an offline browser, and how long it is retried: the TTL header, 1m to 28d. (env: FAROS_PUSH_TTL; default: 24h)")
    var pushTTL: String?

    @Option(help: "Push endpoints over plain http: 'loopback' allows them on 127.0.0.1/::1/localhost (tests, a local push service); 'off' allows https only. (env: FAROS_PUSH_ALLOW_HTTP; default: off)")
    var pushAllowHTTP: String?

    @Option(help: "Most events one replay sends; more gets resync: true. (env: FAROS_REPLAY_MAX_EVENTS; default: 10000)")
    var replayMaxEvents: Int?

    @Option(help: "Most bytes of events one replay sends; more gets resync: true. (env: FAROS_REPLAY_MAX_BYTES; default: 2MiB)")
    var replayMaxBytes: String?

    @Option(help: "Topics one session may subscribe to; more is -32013. (env: FAROS_MAX_TOPICS; default: 1000)")
    var maxTopics: Int?

    @Option(help: "Comments one user may have; more is -32013. (env: FAROS_MAX_COMMENTS_PER_USER; default: 10000)")
    var maxCommentsPerUser: Int?

    @Option(help: "Shares one user may have granted; more is -32013. (env: FAROS_MAX_SHARES_PER_USER; default: 10000)")
    var maxSharesPerUser: Int?

    @Option(help: "Results of requestKey calls one user may have stored (24 h); more is -32013. (env: FAROS_MAX_STORED_RESULTS_PER_USER; default: 20000)")
    var maxStoredResultsPerUser: Int?

    @Option(help: "Largest file attachment (POST /tasks/{id}/files); larger is 413. (env: FAROS_MAX_UPLOAD_BYTES; default: 26214400, 25 MiB)")
    var maxUploadBytes: String?

    @Option(help: "Longest an upload may take from its request head to its last byte; slower is 408. (env: FAROS_UPLOAD_TIMEOUT; default: 30m)")
    var uploadTimeout: String?

    @Option(help: "Least an upload's body must average in bytes per second once past the handshake timeout; slower is 408, 0 turns it off. (env: FAROS_UPLOAD_MIN_RATE; default: 1KiB)")
    var uploadMinRate: String?

    @OptionGroup var s3: S3Options

    func run() async throws {
        let settings = try Settings(command: self, environment: Environment.current)
        settings.storage.bootstrapLogging()
        let logger = Logger(label: "faros")
        // Before any metric object exists: objects made earlier would report nowhere.
        let metricsRegistry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoopThreads)
        // Database work (libpq, SQLite) and password hashing each get their own bounded pool: a
        // login storm fills the hashing pool and never delays a query, and neither runs on an event loop.
        let databasePool = NIOThreadPool(numberOfThreads: settings.storage.store.poolSize + 2)
        databasePool.start()
        let hashingPool = NIOThreadPool(numberOfThreads: System.coreCount)
        hashingPool.start()

        let store: any Store
        do {
            store = try await StoreFactory.open(settings.storage.store, threadPool: databasePool, logger: logger)
        } catch {
            logger.critical("Cannot open the database", metadata: ["error": "\(error)"])
            try? await databasePool.shutdownGracefully()
            try? await hashingPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        let secret: [UInt8]
        do {
            // The data directory holds the secret and the outbox whichever database is used.
            try FileManager.default.createDirectory(
                atPath: settings.storage.store.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            secret = try settings.jwtSecret ?? SecretStore.loadOrCreateJWTSecret(dataDirectory: settings.storage.store.dataDirectory)
        } catch {
            logger.critical("Cannot read or create the JWT secret", metadata: ["error": "\(error)"])
            await store.close()
            throw ExitCode.failure
        }
        // Web Push: the VAPID key from the setting, or made once and kept beside the secret.
        // Encryption and the POSTs to push services run on a pool of their own.
        let pushPool = NIOThreadPool(numberOfThreads: 4)
        pushPool.start()
        let pushTransport: WebPushTransport
        do {
            let key = try settings.vapidPrivateKey.map { text throws(VAPIDKeyError) in try VAPIDKey(base64URL: text) }
                ?? VAPIDKey.loadOrCreate(dataDirectory: settings.storage.store.dataDirectory)
            pushTransport = try WebPushTransport(key: key, subject: settings.vapidSubject, threadPool: pushPool, logger: logger)
        } catch {
            logger.critical("Cannot read or create the VAPID key", metadata: ["error": "\(error)"])
            await store.close()
            try? await pushPool.shutdownGracefully()
            throw ExitCode.failure
        }

        // Live events and rate limits: through Redis when several instances share the work, else
        // in this process. Redis's blocking calls get their own small pool.
        let bus: any EventBus
        let rateLimiter: any RateLimiter
        var redisPool: NIOThreadPool?
        var redisClient: RedisClient?
        var presenceBackplane: (any PresenceBackplane)?
        if let url = settings.redisURL {
            let redis: RedisConfiguration
            do {
                redis = try RedisConfiguration(url: url)
            } catch {
                logger.critical("Bad Redis URL", metadata: ["error": "\(error)"])
                await store.close()
                throw ExitCode.failure
            }
            let pool = NIOThreadPool(numberOfThreads: redis.poolSize + 1)
            pool.start()
            let client = RedisClient(configuration: redis, threadPool: pool, logger: logger)
            let redisBus = RedisEventBus(client: client, logger: logger)
            bus = redisBus
            presenceBackplane = RedisPresenceBackplane(client: client, bus: redisBus)
            rateLimiter = RedisRateLimiter(client: client, logger: logger)
            (redisPool, redisClient) = (pool, client)
            logger.info("Using Redis", metadata: ["redis.host": "\(redis.url.host)", "redis.port": "\(redis.url.port)"])
        } else {
            bus = InProcessEventBus()
            rateLimiter = InProcessRateLimiter()
        }
        let sessions = SessionDirectory(clock: SystemClock.now)
        let hub = EventHub()
        // The janitor needs the store and the blob store, made after the domain; commits wake it
        // (tasks.delete and users.deleteMe enqueue blobs too).
        let janitorBox = JanitorBox()
        let sequencer = EventSequencer(log: store, bus: bus, logger: logger)
        let dispatcher = EventDispatcher(log: store, bus: bus, hub: hub, sessions: sessions, logger: logger)

        let mailSignal = MailWakeSignal()
        let pushSignal = MailWakeSignal()
        var domainConfiguration = DomainConfiguration(publicURL: settings.publicURL)
        domainConfiguration.events = settings.events
        domainConfiguration.quotas = settings.quotas
        domainConfiguration.tokenTTLMilliseconds = Int64(settings.tokenTTL.components.seconds * 1000)
        domainConfiguration.rateLimitsEnabled = settings.rateLimits
        domainConfiguration.mailDomain = settings.mailDomain
        domainConfiguration.push = settings.push
        let domain = Domain(
            store: store,
            // Hashing threads run 10 nice levels below the rest: a login storm uses the CPU that
            // calls leave over and cannot take an equal share from the event loops.
            hasher: PasswordHasher(cost: settings.passwordCost, threadPool: hashingPool, maxConcurrent: System.coreCount, niceIncrement: 10),
            signer: TokenSigner(secret: secret),
            oneTimeTokens: OneTimeTokenIssuer(),
            rateLimiter: rateLimiter,
            zones: ZoneCache(source: ZoneDirectory()),
            sessions: sessions,
            hub: hub,
            presenceBackplane: presenceBackplane,
            presenceSettings: settings.presence,
            configuration: domainConfiguration,
            clock: SystemClock.now,
            logger: logger,
            activityCommitted: { sequencer.wake(); janitorBox.janitor?.wake() },
            mailCommitted: { mailSignal.signal() },
            pushTransport: pushTransport,
            pushCommitted: { pushSignal.signal() }
        )
        logger.info("Storage ready", metadata: ["db.system": "\(store.backendName)"])

        // File bytes: their own small pool (disk and curl calls block), never an event loop.
        let blobPool = NIOThreadPool(numberOfThreads: 4)
        blobPool.start()
        let blobs: any BlobStore
        do {
            blobs = try await BlobStoreFactory.open(settings, threadPool: blobPool, logger: logger)
        } catch {
            logger.critical("Cannot open the file store", metadata: ["error": "\(error)"])
            await store.close()
            throw ExitCode.failure
        }
        // Mail: over SMTP when configured, else into DATA_DIR/outbox; either way from the durable
        // outbox, on a small pool of its own (curl and fsync block).
        let mailPool = NIOThreadPool(numberOfThreads: 4)
        mailPool.start()
        var mailSettings = MailOutboxSender.Settings()
        // A claim outlives the longest exchange, so only an instance that died loses its claim.
        mailSettings.leaseMilliseconds = Int64((settings.smtp?.timeout ?? .seconds(30)).components.seconds) * 1000 + 30_000
        let pushSender = PushOutboxSender(domain: domain, transport: pushTransport, signal: pushSignal, logger: logger)
        let mailSender = MailOutboxSender(
            domain: domain,
            transport: MailTransports.make(settings, threadPool: mailPool, logger: logger),
            from: settings.mailFrom, settings: mailSettings, signal: mailSignal, logger: logger
        )
        let janitor = BlobJanitor(store: store, blobs: blobs, logger: logger, interval: .seconds(30))
        janitorBox.set(janitor)
        let readinessBus = bus
        let bridge = RESTBridge(
            domain: domain, blobs: blobs, janitor: janitor, configuration: settings.rest,
            readiness: Readiness {
                async let database = Self.probe { try await store.read { _ in true } }
                async let eventBus = readinessBus.isHealthy()
                return [
                    Readiness.Component(name: "database", problem: await database ? nil : "unreachable"),
                    Readiness.Component(name: "eventBus", problem: await eventBus ? nil : "unreachable"),
                ]
            },
            metricsRegistry: metricsRegistry, logger: logger
        )

        let rpc = RPCServer(
            configuration: settings.server,
            methods: MethodMetrics.instrument(domain.registry()),
            sessions: SessionHooks(
                directory: domain.sessions,
                bearer: { token in try await domain.principal(forBearer: token) },
                confirm: { client, principal in await domain.confirmSignIn(client, as: principal) }
            ),
            logger: logger
        )
        let server = HTTPEdge(
            configuration: settings.edge,
            routes: Routes.table(rpc: rpc, bridge: bridge, webApp: WebAppResponder(files: EmbeddedFiles.all), enableEcho: settings.server.enableEcho),
            eventLoopGroup: group,
            logger: logger,
            onBound: { [publicURL = domain.configuration.publicURLSource, serverOrigin = settings.server.serverOrigin,
                        derived = settings.derivesPublicURL, host = settings.edge.host] port in
                // `--port 0` without `--public-url`: links and the server's own origin name the
                // port actually bound.
                guard derived else { return }
                let url = "http://\(HTTPEdge.urlHost(["0.0.0.0", "::", ""].contains(host) ? "localhost" : host)):\(port)"
                publicURL.set(url)
                serverOrigin?.set(url: url)
            }
        )
        let liveSessions = Gauge(label: "faros_live_sessions")
        let signedIn = Gauge(label: "faros_signed_in_sessions")
        let poolCapacity = Gauge(label: "faros_db_pool_connections")
        let poolInUse = Gauge(label: "faros_db_pool_connections_in_use")
        let poolWaiting = Gauge(label: "faros_db_pool_waiting")
        let sqlStore = store as? SQLStore
        bridge.onScrape { [sessions = domain.sessions] in
            liveSessions.record(server.connectionCount)
            signedIn.record(sessions.signedInCount)
            if let usage = sqlStore?.poolUsage {
                poolCapacity.record(usage.capacity)
                poolInUse.record(usage.inUse)
                poolWaiting.record(usage.waiting)
            }
        }
        let services = ServiceGroup(
            configuration: .init(
                // Started in this order and stopped in reverse: the server drains its calls
                // first, then the sequencer numbers and publishes their last events.
                services: [
                    .init(service: DispatcherService(dispatcher: dispatcher)),
                    .init(service: PresenceRunner(presence: domain.presence)),
                    .init(service: SequencerService(sequencer: sequencer)),
                    .init(service: BlobJanitorService(janitor: janitor)),
                    .init(service: MailSenderService(sender: mailSender)),
                    .init(service: PushSenderService(sender: pushSender)),
                    .init(service: server),
                    .init(service: Housekeeping(domain: domain, logger: logger), successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        var failed = false
        do {
            try await services.run()
        } catch {
            logger.critical("Server stopped with an error", metadata: ["error": "\(error)"])
            failed = true
        }
        await bus.shutdown()
        await redisClient?.shutdown()
        await store.close()
        try? await redisPool?.shutdownGracefully()
        try? await blobPool.shutdownGracefully()
        try? await mailPool.shutdownGracefully()
        try? await pushPool.shutdownGracefully()
        try? await databasePool.shutdownGracefully()
        try? await hashingPool.shutdownGracefully()
        try await group.shutdownGracefully()
        if failed { throw ExitCode.failure }
    }
}

extension ServeCommand {
    /// Whether `check` succeeds within 2 s (a hung backend must not hang `/ready`).
    static func probe(_ check: @escaping @Sendable () async throws -> Bool) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await check()) ?? false }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

/// The process environment, read once.
struct Environment: Sendable {
    var values: [String: String]

    static var current: Environment {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            pointer += 1
        }
        return Environment(values: values)
    }

    subscript(name: String) -> String? {
        guard let value = self.values[name], !value.isEmpty else { return nil }
        return value
    }
}
