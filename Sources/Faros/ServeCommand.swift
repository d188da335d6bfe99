import ArgumentParser
import Handlers
import JSONRPC
import Logging
import NIOCore
import NIOPosix
import RPCServer
import ServiceLifecycle
import WebSocketCore

#if canImport(Glibc)
import Glibc
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

    @Option(help: "Log format: text or json. (env: FAROS_LOG_FORMAT; default: text)")
    var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. (env: FAROS_LOG_LEVEL; default: info)")
    var logLevel: String?

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

    @Option(help: "Time from connect to a complete request (head and body) or upgrade. (env: FAROS_HANDSHAKE_TIMEOUT; default: 10s)")
    var handshakeTimeout: String?

    @Option(help: "A session silent this long (no pong to our pings) is closed with 1008. (env: FAROS_IDLE_TIMEOUT; default: 60s)")
    var idleTimeout: String?

    @Option(help: "How long shutdown waits for in-flight calls. (env: FAROS_SHUTDOWN_GRACE; default: 10s)")
    var shutdownGrace: String?

    @Option(help: "Event-loop threads. (env: FAROS_EVENT_LOOP_THREADS; default: one per core)")
    var eventLoopThreads: Int?

    func run() async throws {
        let settings = try Settings(command: self, environment: Environment.current)
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch settings.logFormat {
            case .json: handler = JSONLogHandler(label: label)
            case .text: handler = StreamLogHandler.standardError(label: label)
            }
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "faros")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoopThreads)

        let server = FarosServer(
            configuration: settings.server,
            methods: MethodRegistry<ClientSession>(),
            eventLoopGroup: group,
            logger: logger
        )
        let services = ServiceGroup(
            configuration: .init(
                services: [server],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await services.run()
        } catch {
            logger.critical("Server stopped with an error", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        try await group.shutdownGracefully()
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
