public import JSON

/// An error as a JSON-RPC client sees it: a code, a client-safe message and optional data.
///
/// Handlers throw it for every failure the client should know about; anything else a handler
/// throws becomes ``Code/internalError`` with the message "Internal error", is handed to the
/// engine's error reporter, and reveals nothing. ``underlying`` carries the cause for logs and is
/// never serialized.
public struct RPCError: Error, Sendable {
    /// The error code; JSON-RPC's own codes and Faros's documented ones are static members.
    public var code: Code
    /// A short sentence safe to show to the client.
    public var message: String
    /// Structured detail for the client, in the shape `x-errorDetails` in protocol/openrpc.json
    /// gives for the code.
    public var data: JSONValue?
    /// The cause, for logs only; never sent.
    public var underlying: (any Error)?

    /// Creates an error; the message defaults to the code's standard one.
    public init(_ code: Code, message: String? = nil, data: JSONValue? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.data = data
        self.underlying = underlying
    }

    /// The `error` member of a response: `{"code":…,"message":…,"data":…}` (`data` only when set).
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object.reserveCapacity(3)
        object.append(key: "code", value: .number(JSONNumber(code.rawValue)))
        object.append(key: "message", value: .string(message))
        if let data { object.append(key: "data", value: data) }
        return .object(object)
    }
}

extension RPCError: CustomStringConvertible, CustomDebugStringConvertible {
    /// Code and message only; see ``debugDescription`` for the cause.
    public var description: String {
        "RPCError(code: \(code.rawValue), message: \"\(message)\")"
    }

    /// Code, message, data and the underlying error, for logs.
    public var debugDescription: String {
        var text = "RPCError(code: \(code.rawValue), message: \"\(message)\""
        if let data { text += ", data: \(data)" }
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }
}
