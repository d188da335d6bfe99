import Handlers
import JSONRPC
import ProtocolDocument

/// Methods the server itself answers, whatever the domain registers.
enum ServerMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>) {
        // The document is protocol/openrpc.json, embedded at build time, and a test parses it: this cannot fail at run time.
        let document = try! JSONParser().parse(ProtocolDocument.openRPC)
        registry.register("rpc.discover") { params, _ in
            if case .object(let object) = params, let name = object.keys.first {
                throw RPCError.invalidParams(field: name, message: "is not a parameter of rpc.discover")
            }
            if case .array = params {
                throw RPCError.invalidParams(field: "params", message: "must be an object (by name)")
            }
            return document
        }
    }
}
