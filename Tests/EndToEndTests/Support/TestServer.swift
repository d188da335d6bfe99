import Handlers
import Foundation
import HTTPEdge
import JSONRPC
import Logging
import NIOCore
import NIOPosix
import RPCServer
import ServiceLifecycle
import Synchronization

/// A Faros server on a free loopback port, run for the length of one test.
///
/// Besides the server's own methods it registers a few test methods:
/// `test.sleep {ms}` (answers after ms milliseconds), `test.echo {value}`, `test.blob {bytes}`
/// (a string of that many bytes), and records the highest number of calls running at once.
struct TestServer {
    let port: Int
    let concurrency: ConcurrencyProbe

    static func with(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        domain: (methods: MethodRegistry<ClientSession>, sessions: SessionHooks)? = nil,
        _ body: (TestServer, ServiceGroup) async throws -> Void
    ) async throws {
        var configuration = ServerConfiguration()
        configuration.enableEcho = true
        configure(&configuration)
        var edge = HTTPEdgeConfiguration()
        edge.host = "127.0.0.1"
        edge.port = 0

        let probe = ConcurrencyProbe()
        var methods = domain?.methods ?? MethodRegistry<ClientSession>()
        methods.register("test.sleep") { params, _ in
            probe.enter()
            defer { probe.leave() }
            if case .object(let object) = params, case .number(let number)? = object["ms"], let ms = number.int {
                try await Task.sleep(for: .milliseconds(ms))
            }
            return params ?? .null
        }
        methods.register("test.echo") { params, _ in params ?? .null }
        methods.register("test.blob") { params, _ in
            guard case .object(let object) = params, case .number(let number)? = object["bytes"], let bytes = number.int else {
                throw RPCError.invalidParams(field: "bytes", message: "is required")
            }
            return .string(String(repeating: "x", count: bytes))
        }
        methods.register("test.crash") { _, _ in
            struct SecretFailure: Error { let path = "/etc/secret/database.sql" }
            throw SecretFailure()
        }

        let logger = Logger(label: "faros.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let rpc = RPCServer(configuration: configuration, methods: methods, sessions: domain?.sessions ?? SessionHooks(), logger: logger)
        var routes = HTTPRouteTable()
        routes.upgrade("/rpc", to: rpc.upgrader(for: .rpc))
        if configuration.enableEcho { routes.upgrade("/echo", to: rpc.upgrader(for: .echo)) }
        let server = HTTPEdge(configuration: edge, routes: routes, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let address = try await server.localAddress
            let test = TestServer(port: address.port!, concurrency: probe)
            do {
                try await body(test, group)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// Counts calls running at once in the server's test methods.
final class ConcurrencyProbe: Sendable {
    private let state = Mutex((current: 0, highest: 0))

    func enter() {
        self.state.withLock {
            $0.current += 1
            $0.highest = max($0.highest, $0.current)
        }
    }

    func leave() { self.state.withLock { $0.current -= 1 } }

    var highest: Int { self.state.withLock { $0.highest } }
}
