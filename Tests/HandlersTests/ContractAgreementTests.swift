import Foundation
import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// `protocol/openrpc.json` is the contract: every method the domain registers is in it, and it
/// lists no domain method that the server does not answer.
@Suite struct ContractAgreementTests {
    static func documentedMethods() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bytes = try Data(contentsOf: root.appendingPathComponent("protocol/openrpc.json"))
        let document = try JSONParser().parse(Array(bytes))
        let methods = try #require(document["methods"]?.arrayValue)
        return Set(methods.compactMap { $0["name"]?.stringValue })
    }

    @Test func theRegistryAndTheDocumentListTheSameMethods() async throws {
        try await withStore(.sqlite) { store in
            let registered = Set(TestDomain(store: store).registry.methodNames)
            // rpc.* belongs to the server (checked in RPCServerTests); the rest is the domain's.
            let documented = try Self.documentedMethods().filter { !$0.hasPrefix("rpc.") }
            #expect(registered.subtracting(documented).isEmpty, "registered but not documented: \(registered.subtracting(documented).sorted())")
            #expect(documented.subtracting(registered).isEmpty, "documented but not registered: \(documented.subtracting(registered).sorted())")
        }
    }
}
