import JSON
public import JSONRPC
public import NIOHTTP1

/// The one place an ``JSONRPC/RPCError`` becomes an HTTP answer: the status for each code, the
/// headers some codes carry, and the `{"error":{code,message,data}}` body.
///
/// Every HTTP path (the edge's own refusals and the REST bridge's routes) answers errors
/// through it, so a client reads the same shape and status for a code wherever it came from.
public enum HTTPErrorResponse {
    /// The status that matches each code (`protocol/README.md`, "REST bridge").
    public static func status(for code: RPCError.Code) -> HTTPResponseStatus {
        switch code {
        case .invalidParams, .invalidRequest, .parseError: return .badRequest
        case .unauthenticated: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .requestTimeout: return .requestTimeout
        case .conflict: return .conflict
        case .tooLarge: return .payloadTooLarge
        case .unsupportedFileType: return .unsupportedMediaType
        case .rangeNotSatisfiable: return .rangeNotSatisfiable
        case .rateLimited: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        case .methodNotFound: return .methodNotAllowed
        default: return .internalServerError
        }
    }

    /// The headers a code's answer carries besides `Content-Type`: `WWW-Authenticate` for
    /// -32001, `Retry-After` (whole seconds, rounded up) for -32029 and -32050, `Content-Range` for
    /// -32016.
    public static func headers(for error: RPCError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        switch error.code {
        case .unauthenticated:
            headers.add(name: "WWW-Authenticate", value: #"Bearer realm="faros""#)
        case .rateLimited, .unavailable:
            if let ms = error.data?["retryAfterMs"]?.numberValue?.int64 {
                headers.add(name: "Retry-After", value: "\(max(1, (ms + 999) / 1000))")
            }
        case .rangeNotSatisfiable:
            if let size = error.data?["size"]?.numberValue?.int64 {
                headers.add(name: "Content-Range", value: "bytes */\(size)")
            }
        default:
            break
        }
        return headers
    }

    /// `{"error":{"code":…,"message":…,"data":…}}`.
    public static func body(for error: RPCError) -> [UInt8] {
        JSONWriter.serialize(["error": error.jsonValue])
    }
}
