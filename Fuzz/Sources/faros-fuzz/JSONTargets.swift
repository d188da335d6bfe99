import JSON
import JSONRPC

enum JSONTargets {
    /// The strict parser; an accepted document must survive the writer and parse back equal.
    static func json(_ input: FuzzInput) {
        let bytes = input.rest
        guard let value = try? JSONParser().parse(bytes) else { return }
        let written = JSONWriter.serialize(value)
        guard let again = try? JSONParser().parse(written) else {
            fatalError("the writer's output does not parse: \(String(decoding: written, as: UTF8.self))")
        }
        precondition(again == value, "the round trip changed the value: \(String(decoding: written, as: UTF8.self))")
    }

    /// The engine's parse of one message (envelope checks, batches) and the params decoder over
    /// whatever params it carries.
    static func jsonRPC(_ input: FuzzInput) {
        let bytes = input.rest
        let engine = RPCEngine<Void>(registry: MethodRegistry())
        let incoming = engine.parse(bytes)
        _ = incoming.callCount
        _ = incoming.isBatch
        guard let value = try? JSONParser().parse(bytes) else { return }
        var params: [JSONValue] = [value]
        if let calls = value.arrayValue {
            params = calls.compactMap { $0.objectValue?["params"] }
        } else if let object = value.objectValue, let inner = object["params"] {
            params = [inner]
        }
        for raw in params {
            _ = try? MethodRegistry<Void>.decode(SampleParams.self, raw)
            _ = try? MethodRegistry<Void>.decode([SampleParams].self, raw)
        }
    }
}

/// Params shaped like the protocol's: integers, strings, optionals, nullables, arrays, a
/// nested object and an enum.
struct SampleParams: Decodable {
    enum Priority: String, Decodable { case low, normal, high }
    struct Window: Decodable {
        var start: Int
        var end: Int?
    }
    var id: Int64
    var title: String?
    var due: Nullable<Int64>?
    var tags: [String]?
    var ratio: Double?
    var done: Bool?
    var priority: Priority?
    var window: Window?
    var counts: [String: Int]?
}
