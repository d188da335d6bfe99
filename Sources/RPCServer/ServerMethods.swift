import Handlers
import JSON
import JSONRPC

/// Methods the server itself answers, whatever the domain registers.
enum ServerMethods {
    static func register(in registry: inout MethodRegistry<ClientSession>) {
        // The document is generated from protocol/openrpc.json and a test parses it, so this cannot fail at run time.
        let document = try! JSONParser().parse(OpenRPCDocument.json)
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
