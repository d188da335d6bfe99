import Foundation
import JSON
import JSONRPC
import ProtocolDocument
import Testing

@testable import RPCServer

/// The compiled-in OpenRPC document is `protocol/openrpc.json` verbatim and agrees with the engine.
///
/// The registry-versus-document check (every registered method documented and vice versa) belongs
/// with the server's method registry.
@Suite struct OpenRPCDocumentTests {
    static let protocolFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // RPCServerTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("protocol/openrpc.json")

    static func document() throws -> JSONValue {
        try JSONParser().parse(ProtocolDocument.openRPC)
    }

    @Test func embeddedBytesEqualTheProtocolFile() throws {
        let file = try Data(contentsOf: Self.protocolFile)
        #expect(ProtocolDocument.openRPC == Array(file))
    }

    @Test func documentIsOpenRPCForFaros() throws {
        let document = try Self.document()
        #expect(document["openrpc"] == "1.2.6")
        #expect(document["info"]?["title"] == "Faros")
        #expect(document["info"]?["version"] == "1.0.0")
        #expect(Self.firstRepeatedName(in: document) == nil)
    }

    @Test func everyMethodHasAUniqueWellFormedName() throws {
        let methods = try #require(Self.document()["methods"]?.arrayValue)
        let names = methods.compactMap { $0["name"]?.stringValue }
        #expect(names.count == methods.count)
        #expect(Set(names).count == names.count)
        #expect(names.contains("rpc.discover"))
        for name in names {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            #expect(parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.first!.isLowercase }, "\(name)")
        }
        for method in methods {
            #expect(method["paramStructure"] == "by-name")
        }
    }

    @Test func errorsMatchTheEngineCodes() throws {
        let errors = try #require(Self.document()["components"]?["errors"]?.objectValue)
        let codes = RPCError.Code.all
        var documented: [Int: String] = [:]
        for member in errors {
            let code = try #require(member.value["code"]?.numberValue?.int)
            documented[code] = member.value["message"]?.stringValue
        }
        #expect(Set(documented.keys) == Set(codes.map(\.rawValue)))
        for code in codes {
            #expect(documented[code.rawValue] == code.defaultMessage, "\(code.rawValue)")
        }
    }

    @Test func limitsMatchTheEngineDefaults() throws {
        let limits = try #require(Self.document()["x-limits"])
        #expect(limits["maxBatch"]?["default"]?.numberValue?.int == RPCEngine<Int>.Configuration().maxBatch)
        #expect(limits["maxJSONDepth"]?["default"]?.numberValue?.int == JSONParser.defaultMaxDepth)
        #expect(limits["maxMessageBytes"]?["default"]?.numberValue?.int == 1 << 20)
        let rpc = ServerConfiguration().rpc
        #expect(limits["maxResponseBytes"]?["default"]?.numberValue?.int == rpc.maxResponseBytes)
        #expect(limits["anonymousMaxResponseBytes"]?["default"]?.numberValue?.int == rpc.anonymousMaxResponseBytes)
        let closeCodes = try #require(Self.document()["x-closeCodes"]?.arrayValue).compactMap { $0["code"]?.numberValue?.int }
        #expect(closeCodes == [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1013])
    }

    /// An anonymous session can read the protocol: `rpc.discover`'s answer fits its response
    /// budget with room for the document to grow.
    @Test func discoveryFitsTheAnonymousResponseBudget() throws {
        let answer = JSONWriter.serialize(try Self.document())
        #expect(answer.count + 100 < ServerConfiguration().rpc.anonymousMaxResponseBytes * 3 / 4, "\(answer.count) bytes")
    }

    /// The dotted path of the first repeated member name, if any.
    static func firstRepeatedName(in value: JSONValue) -> String? {
        switch value {
        case .object(let object):
            if let key = object.duplicateKey { return key }
            for member in object {
                if let inner = firstRepeatedName(in: member.value) { return member.key + "." + inner }
            }
            return nil
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let inner = firstRepeatedName(in: element) { return "\(index).\(inner)" }
            }
            return nil
        default:
            return nil
        }
    }
}
