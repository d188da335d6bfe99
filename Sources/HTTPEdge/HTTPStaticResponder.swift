public import NIOCore
public import NIOHTTP1

/// Answers requests whose whole answer is at hand without I/O (the web app's embedded files):
/// the edge writes it at the end of the request, with keep-alive and `HEAD` handled as for
/// every answer.
public protocol HTTPStaticResponder: Sendable {
    /// The answer for `head`, or nil when the path is not this responder's (the next route decides).
    func respond(to head: HTTPRequestHead) -> HTTPStaticResponse?
}

/// A whole answer: status, headers (without `Content-Length`, which the edge sets) and body.
public struct HTTPStaticResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An error as every HTTP path answers it (``HTTPErrorResponse``).
    public init(_ refusal: HTTPRefusal) {
        var headers = HTTPErrorResponse.headers(for: refusal.error)
        for (name, value) in refusal.headers { headers.replaceOrAdd(name: name, value: value) }
        self.init(status: refusal.status, headers: headers, body: ByteBuffer(bytes: HTTPErrorResponse.body(for: refusal.error)))
    }
}
