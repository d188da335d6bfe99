public import NIOCore
public import NIOHTTP1
import JSON
import JSONRPC

/// One answer of the bridge with a body small enough to be whole (JSON, HTML, errors).
/// Downloads stream instead (``RESTConnection``).
struct RESTResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]
    /// Close the connection after this answer (errors in the middle of a request body).
    var close = false

    init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: HTTPResponseStatus, _ value: JSONValue) -> RESTResponse {
        var response = RESTResponse(status: status, body: JSONWriter.serialize(value))
        response.headers.add(name: "Content-Type", value: "application/json")
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    static func json<T: Encodable>(_ status: HTTPResponseStatus, encoding value: T) throws -> RESTResponse {
        json(status, try JSONValueEncoder().encode(value))
    }

    static func html(_ status: HTTPResponseStatus, _ page: String) -> RESTResponse {
        var response = RESTResponse(status: status, body: Array(page.utf8))
        response.headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        response.headers.add(name: "Cache-Control", value: "no-store")
        // The pages are self-contained: no script, no outside resource, no framing.
        response.headers.add(name: "Content-Security-Policy", value: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        response.headers.add(name: "Referrer-Policy", value: "no-referrer")
        return response
    }

    static let noContent = RESTResponse(status: .noContent)

    /// `{"error":{code,message,data}}` with API.md's status for the code and its extra headers
    /// (`WWW-Authenticate`, `Retry-After`, `Content-Range`).
    static func error(_ error: RPCError) -> RESTResponse {
        var object: JSONObject = ["code": .number(JSONNumber(error.code.rawValue)), "message": .string(error.message)]
        if let data = error.data { object.append(key: "data", value: data) }
        var response = json(status(for: error.code), ["error": .object(object)])
        switch error.code.rawValue {
        case -32001:
            response.headers.add(name: "WWW-Authenticate", value: #"Bearer realm="faros""#)
        case -32029:
            if let ms = error.data?["retryAfterMs"]?.numberValue?.int64 {
                response.headers.add(name: "Retry-After", value: "\(max(1, (ms + 999) / 1000))")
            }
        case -32016:
            if let size = error.data?["size"]?.numberValue?.int64 {
                response.headers.add(name: "Content-Range", value: "bytes */\(size)")
            }
        default:
            break
        }
        return response
    }

    /// API.md "REST bridge": the status that matches each code.
    static func status(for code: RPCError.Code) -> HTTPResponseStatus {
        switch code.rawValue {
        case -32602, -32600, -32700: return .badRequest
        case -32001: return .unauthorized
        case -32003: return .forbidden
        case -32004: return .notFound
        case -32009: return .conflict
        case -32013: return .payloadTooLarge
        case -32015: return .unsupportedMediaType
        case -32016: return .rangeNotSatisfiable
        case -32029: return .tooManyRequests
        case -32050: return .serviceUnavailable
        case -32601: return .methodNotAllowed
        default: return .internalServerError
        }
    }
}
