import Handlers
import JSON
import JSONRPC
import ProtocolDocument
import SystemTime

/// Methods the server itself answers, whatever the domain registers; both are open to anonymous
/// sessions.
enum ServerMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>) {
        // The document is protocol/openrpc.json, embedded at build time, and a test parses it: this cannot fail at run time.
        let document = try! JSONParser().parse(ProtocolDocument.openRPC)
        registry.register("rpc.discover") { params, _ in
            try refuseParams(params, of: "rpc.discover")
            return document
        }
        // A heartbeat for clients that cannot see WebSocket pings (browsers): no I/O at all.
        registry.register("rpc.ping") { params, _ in
            try refuseParams(params, of: "rpc.ping")
            return ["serverTime": .string(SystemClock.now().description)]
        }
    }

    /// Neither method takes a parameter; the engine has already refused positional params.
    private static func refuseParams(_ params: JSONValue?, of method: String) throws(RPCError) {
        if case .object(let object) = params, let name = object.keys.first {
            throw RPCError.invalidParams(field: name, message: "is not a parameter of \(method)")
        }
    }
}
