extension RPCError {
    /// A JSON-RPC error code.
    ///
    /// A struct rather than an enum so that new codes never break a `switch`. -32768 to -32000 is
    /// reserved by JSON-RPC 2.0; -32700 and -32600 to -32603 are its own, and Faros documents the
    /// application codes below in the error table of protocol/README.md ("Errors") and
    /// `protocol/openrpc.json`.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: Int

        public init(rawValue: Int) {
            self.rawValue = rawValue
        }

        /// -32700: the message is not JSON.
        public static let parseError = Code(rawValue: -32700)
        /// -32600: the message is JSON but not a JSON-RPC request.
        public static let invalidRequest = Code(rawValue: -32600)
        /// -32601: no such method (or not available to this server).
        public static let methodNotFound = Code(rawValue: -32601)
        /// -32602: the params are wrong; `data.errors` names each field.
        public static let invalidParams = Code(rawValue: -32602)
        /// -32603: the server failed; details are in its log, never in the answer.
        public static let internalError = Code(rawValue: -32603)
        /// -32001: no, expired or revoked token, or bad credentials.
        public static let unauthenticated = Code(rawValue: -32001)
        /// -32003: the caller can see the resource but may not do this.
        public static let forbidden = Code(rawValue: -32003)
        /// -32004: no such resource, or one the caller cannot see.
        public static let notFound = Code(rawValue: -32004)
        /// -32008: an upload body that came too slowly or not within its deadline (REST bridge
        /// only, HTTP 408).
        public static let requestTimeout = Code(rawValue: -32008)
        /// -32009: conflicts with existing state (duplicate username, share, …); `data.field`.
        public static let conflict = Code(rawValue: -32009)
        /// -32013: a batch, topic list or upload over its limit; `data.limit`.
        public static let tooLarge = Code(rawValue: -32013)
        /// -32015: an upload of a type outside the allow-list; `data.allowed`.
        public static let unsupportedFileType = Code(rawValue: -32015)
        /// -32016: a byte range outside the file; `data.size`.
        public static let rangeNotSatisfiable = Code(rawValue: -32016)
        /// -32029: too many calls; `data.retryAfterMs`.
        public static let rateLimited = Code(rawValue: -32029)
        /// -32050: a backend is down; retry after `data.retryAfterMs`.
        public static let unavailable = Code(rawValue: -32050)

        /// Every code above: JSON-RPC's own and Faros's documented ones (`protocol/openrpc.json`).
        public static let all: [Code] = [
            .parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError, .unauthenticated, .forbidden,
            .notFound, .requestTimeout, .conflict, .tooLarge, .unsupportedFileType, .rangeNotSatisfiable, .rateLimited, .unavailable,
        ]

        /// The standard message for the code, used when an error is created without one.
        public var defaultMessage: String {
            switch self {
            case .parseError: "Parse error"
            case .invalidRequest: "Invalid Request"
            case .methodNotFound: "Method not found"
            case .invalidParams: "Invalid params"
            case .internalError: "Internal error"
            case .unauthenticated: "Unauthenticated"
            case .forbidden: "Forbidden"
            case .notFound: "Not found"
            case .requestTimeout: "Request timeout"
            case .conflict: "Conflict"
            case .tooLarge: "Too large"
            case .unsupportedFileType: "Unsupported file type"
            case .rangeNotSatisfiable: "Range not satisfiable"
            case .rateLimited: "Rate limited"
            case .unavailable: "Unavailable"
            default: "Error"
            }
        }
    }
}
