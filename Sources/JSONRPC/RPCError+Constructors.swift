import JSON

extension RPCError {
    /// One invalid field of a -32602 error: a dotted path (`changes.title`, `tags.3`) and what is
    /// wrong with it ("is required", "must be a string").
    public struct FieldError: Sendable, Hashable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    /// -32602 for one field: data `{"errors":[{"field":…,"message":…}]}`.
    public static func invalidParams(field: String, message: String) -> RPCError {
        invalidParams([FieldError(field: field, message: message)])
    }

    /// -32602 for several fields, in the order given.
    public static func invalidParams(_ errors: [FieldError]) -> RPCError {
        let list: [JSONValue] = errors.map { ["field": .string($0.field), "message": .string($0.message)] }
        return RPCError(.invalidParams, data: ["errors": .array(list)])
    }

    /// The field errors of a -32602 error, read back from its data (empty for other errors).
    public var fieldErrors: [FieldError] {
        guard code == .invalidParams, case .array(let list)? = data?["errors"] else { return [] }
        return list.compactMap { entry in
            guard let field = entry["field"]?.stringValue, let message = entry["message"]?.stringValue else {
                return nil
            }
            return FieldError(field: field, message: message)
        }
    }

    /// -32009, with data `{"field":…}` when one field is at fault.
    public static func conflict(field: String?, message: String? = nil) -> RPCError {
        RPCError(.conflict, message: message, data: field.map { ["field": .string($0)] })
    }

    /// -32050 with data `{"retryAfterMs":N}`: a backend is down; N is a hint, not a promise.
    public static func unavailable(retryAfterMs: Int = 1000, message: String? = nil, underlying: (any Error)? = nil) -> RPCError {
        RPCError(.unavailable, message: message, data: ["retryAfterMs": .number(JSONNumber(retryAfterMs))], underlying: underlying)
    }

    /// -32029 with data `{"retryAfterMs":N}`.
    public static func rateLimited(retryAfterMs: Int) -> RPCError {
        RPCError(.rateLimited, data: ["retryAfterMs": .number(JSONNumber(retryAfterMs))])
    }

    /// -32013 with data `{"limit":N}`; the message defaults to the code's.
    public static func tooLarge(limit: Int, message: String? = nil) -> RPCError {
        RPCError(.tooLarge, message: message, data: ["limit": .number(JSONNumber(limit))])
    }

    /// -32013 in place of a result that would take its message's answer past `limit` bytes
    /// (the session's response budget); the call itself ran.
    public static func responseTooLarge(limit: Int) -> RPCError {
        tooLarge(limit: limit, message: "Response too large")
    }

    /// -32015 with data `{"allowed":[…]}`.
    public static func unsupportedFileType(allowed: [String]) -> RPCError {
        RPCError(.unsupportedFileType, data: ["allowed": .array(allowed.map { .string($0) })])
    }

    /// -32016 with data `{"size":N}`.
    public static func rangeNotSatisfiable(size: Int64) -> RPCError {
        RPCError(.rangeNotSatisfiable, data: ["size": .number(JSONNumber(size))])
    }

    /// -32601 for a method that does not exist.
    public static var methodNotFound: RPCError { RPCError(.methodNotFound) }

    /// -32603 with the standard message; the cause stays in `underlying`.
    public static func internalError(underlying: (any Error)? = nil) -> RPCError {
        RPCError(.internalError, underlying: underlying)
    }
}
