import Handlers
import JSONRPC
import Testing

@testable import RPCServer

/// The methods the server answers and the methods `protocol/openrpc.json` documents are the same set.
struct RegistryAgreementTests {
    @Test func registryAndDocumentListTheSameMethods() throws {
        // The executable's registry: the domain methods (none yet) plus the server's own.
        let registry = FarosServer.registry(adding: MethodRegistry<ClientSession>())
        let document = try JSONParser().parse(OpenRPCDocument.json)
        let documented = try #require(document["methods"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(Set(registry.methodNames) == Set(documented))
        #expect(registry.methodNames.count == documented.count)
    }
}
