import Handlers
import JSONRPC
import Metrics

/// Wraps every method of a registry with its metrics, made once per method at start-up, so a
/// call costs a clock read and two counter increments, never a lookup by name:
/// `faros_rpc_calls_total{method,code}` (`code` is `ok` or the JSON-RPC error code) and
/// `faros_rpc_call_duration_seconds{method}`.
enum MethodMetrics {
    static func instrument(_ registry: MethodRegistry<ClientSession>) -> MethodRegistry<ClientSession> {
        var wrapped = MethodRegistry<ClientSession>()
        for name in registry.methodNames {
            guard let handler = registry.handler(for: name) else { continue }
            let ok = Counter(label: "faros_rpc_calls_total", dimensions: [("method", name), ("code", "ok")])
            let errors = ErrorCounters(method: name)
            let duration = Metrics.Timer(label: "faros_rpc_call_duration_seconds", dimensions: [("method", name)])
            wrapped.register(name) { params, client in
                let start = ContinuousClock.now
                do {
                    let result = try await handler(params, client)
                    duration.recordInterval(since: start)
                    ok.increment()
                    return result
                } catch {
                    duration.recordInterval(since: start)
                    errors.increment(code: Self.code(of: error))
                    throw error
                }
            }
        }
        return wrapped
    }

    /// The code the client is answered with (the engine logs internal errors; this only counts).
    static func code(of error: any Error) -> Int {
        RPCError.boundary(error) { _ in }.code.rawValue
    }

    /// One method's error counters by code: the documented codes made up front, anything else
    /// counted as -32603 (the engine answers it so).
    struct ErrorCounters: Sendable {
        static let codes = RPCError.Code.all.map(\.rawValue)
        let counters: [Int: Counter]

        init(method: String) {
            var counters: [Int: Counter] = [:]
            for code in Self.codes {
                counters[code] = Counter(label: "faros_rpc_calls_total", dimensions: [("method", method), ("code", "\(code)")])
            }
            self.counters = counters
        }

        func increment(code: Int) {
            (counters[code] ?? counters[RPCError.Code.internalError.rawValue])?.increment()
        }
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
