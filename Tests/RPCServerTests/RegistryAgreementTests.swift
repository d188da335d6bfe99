import JSONRPC
import Logging
import NIOPosix
import Testing

@testable import RPCServer

/// The methods the server answers and the methods `protocol/openrpc.json` documents are the same set.
struct RegistryAgreementTests {
    @Test func registryAndDocumentListTheSameMethods() throws {
        // The executable's registry: the domain methods (none yet) plus the server's own.
        let server = FarosServer(
            configuration: ServerConfiguration(),
            methods: MethodRegistry<RPCSessionContext>(),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let document = try JSONParser().parse(OpenRPCDocument.json)
        let documented = try #require(document["methods"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(Set(server.methodNames) == Set(documented))
        #expect(server.methodNames.count == documented.count)
    }
}
