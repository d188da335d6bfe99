public import JSON

/// The methods a server answers, by name.
///
/// Built once at start-up and handed to ``RPCEngine``; a value, so it is shared between
/// sessions without locks. `Context` is whatever the server passes with each call (the session,
/// its user, a logger).
public struct MethodRegistry<Context: Sendable>: Sendable {
    /// A method's implementation over raw JSON: the params (nil when absent; otherwise an object,
    /// since the engine answers positional params itself) and the context, returning the result.
    public typealias Handler = @Sendable (_ params: JSONValue?, _ context: Context) async throws -> JSONValue

    private(set) var handlers: [String: Handler] = [:]

    public init() {}

    /// The registered names, sorted.
    public var methodNames: [String] { handlers.keys.sorted() }

    /// Whether a method of this name is registered.
    public func contains(_ name: String) -> Bool { handlers[name] != nil }

    /// The handler for a name.
    public func handler(for name: String) -> Handler? { handlers[name] }

    /// Registers a method over raw JSON.
    ///
    /// Registering a name twice is a programming error and stops the process: two handlers for
    /// one name would make which one runs an accident of start-up order.
    public mutating func register(_ name: String, _ handler: @escaping Handler) {
        precondition(!name.isEmpty, "a method name must not be empty")
        precondition(handlers[name] == nil, "method \(name) is registered twice")
        handlers[name] = handler
    }

    /// Registers a method with typed params and result.
    ///
    /// Params are decoded with ``RPCParamsDecoder`` (absent params decode as `{}`), the result is
    /// encoded with ``JSONValueEncoder``. Use ``NoParams`` for a method without params.
    public mutating func register<P: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String,
        params: P.Type,
        _ handler: @escaping @Sendable (P, Context) async throws -> R
    ) {
        register(name) { (raw: JSONValue?, context: Context) async throws -> JSONValue in
            try Self.encode(try await handler(try Self.decode(P.self, raw), context))
        }
    }

    /// A handler's params as `P`. The engine has already refused positional (array) params, so
    /// `raw` is an object or absent (`{}`).
    public static func decode<P: Decodable>(_ type: P.Type, _ raw: JSONValue?) throws -> P {
        try RPCParamsDecoder().decode(P.self, from: raw ?? .object(JSONObject()))
    }

    /// A handler's result as the response's `result`.
    public static func encode<R: Encodable>(_ result: R) throws -> JSONValue {
        try JSONValueEncoder().encode(result)
    }
}
