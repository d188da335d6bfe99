import HTTPEdge
import JSONRPC
import NIOHTTP1
import Testing

/// The one table of statuses and the one error body (protocol/README.md, "REST bridge").
struct HTTPErrorResponseTests {
    @Test(arguments: [
        (RPCError.Code.parseError, 400), (.invalidRequest, 400), (.invalidParams, 400), (.methodNotFound, 405),
        (.internalError, 500), (.unauthenticated, 401), (.forbidden, 403), (.notFound, 404), (.requestTimeout, 408), (.conflict, 409),
        (.tooLarge, 413), (.unsupportedFileType, 415), (.rangeNotSatisfiable, 416), (.rateLimited, 429),
        (.unavailable, 503), (RPCError.Code(rawValue: -32099), 500),
    ])
    func eachCodeHasItsStatus(code: RPCError.Code, status: Int) {
        #expect(HTTPErrorResponse.status(for: code).code == status)
    }

    @Test func theBodyIsTheJSONRPCErrorObject() {
        let error = RPCError(.tooLarge, message: "File too large", data: ["limit": 5])
        #expect(String(decoding: HTTPErrorResponse.body(for: error), as: UTF8.self)
            == #"{"error":{"code":-32013,"message":"File too large","data":{"limit":5}}}"#)
    }

    @Test func codesCarryTheirHeaders() {
        #expect(HTTPErrorResponse.headers(for: RPCError(.unauthenticated))["WWW-Authenticate"] == [#"Bearer realm="faros""#])
        #expect(HTTPErrorResponse.headers(for: RPCError(.rateLimited, data: ["retryAfterMs": 1001]))["Retry-After"] == ["2"])
        #expect(HTTPErrorResponse.headers(for: .unavailable())["Retry-After"] == ["1"])
        #expect(HTTPErrorResponse.headers(for: RPCError(.rangeNotSatisfiable, data: ["size": 10]))["Content-Range"] == ["bytes */10"])
        #expect(HTTPErrorResponse.headers(for: RPCError(.notFound))["Content-Type"] == ["application/json"])
    }

    @Test func theBoundaryReportsOnlyInternalErrorsOnce() {
        struct Secret: Error {}
        var reported = 0
        let internalError = RPCError.boundary(Secret()) { _ in reported += 1 }
        #expect(internalError.code == .internalError && internalError.message == "Internal error")
        let notFound = RPCError.boundary(RPCError(.notFound)) { _ in reported += 1 }
        #expect(notFound.code == .notFound)
        #expect(reported == 1)
    }
}
