import Handlers
import JSON
import JSONRPC
import ProtocolDocument
import Testing

@testable import RPCServer

/// The server's own methods (`rpc.*`) and the ones `protocol/openrpc.json` documents under that
/// prefix are the same set. The domain's methods are checked against the document by
/// `HandlersTests.ContractAgreementTests`, which can build the domain's registry.
struct RegistryAgreementTests {
    @Test func registryAndDocumentListTheSameServerMethods() throws {
        let registry = RPCServer.registry(adding: MethodRegistry<ClientSession>())
        let document = try JSONParser().parse(ProtocolDocument.openRPC)
        let documented = try #require(document["methods"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(Set(registry.methodNames) == Set(documented.filter { $0.hasPrefix("rpc.") }))
        #expect(registry.methodNames.allSatisfy { $0.hasPrefix("rpc.") })
        #expect(Set(documented).count == documented.count, "a method is documented twice")
    }
}
