public import NIOCore
public import NIOHTTP1
import HTTPEdge
import JSON
import JSONRPC

/// One answer of the bridge with a body small enough to be whole (JSON, HTML, errors).
/// Downloads stream instead (``RESTResponder`` with its ``DownloadPump``).
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
        // Not `no-referrer`: under it a browser sends `Origin: null` with the page's form post
        // (Fetch, "append a request Origin header"), which the origin rule must refuse. With
        // `strict-origin` the post carries the page's origin, and a referrer never names the
        // page's path (its token).
        response.headers.add(name: "Referrer-Policy", value: "strict-origin")
        return response
    }

    static let noContent = RESTResponse(status: .noContent)

    /// The error's answer, as every HTTP path writes it (``HTTPEdge/HTTPErrorResponse``).
    static func error(_ error: RPCError) -> RESTResponse {
        var response = RESTResponse(status: HTTPErrorResponse.status(for: error.code), headers: HTTPErrorResponse.headers(for: error),
                                    body: HTTPErrorResponse.body(for: error))
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }
}
