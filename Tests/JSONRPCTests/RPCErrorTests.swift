import JSONRPC
import Testing

@Suite struct RPCErrorTests {
    private func text(_ error: RPCError) -> String { error.jsonValue.description }

    @Test func codesHaveTheDocumentedValues() {
        let table: [(RPCError.Code, Int)] = [
            (.parseError, -32700), (.invalidRequest, -32600), (.methodNotFound, -32601), (.invalidParams, -32602),
            (.internalError, -32603), (.unauthenticated, -32001), (.forbidden, -32003), (.notFound, -32004),
            (.requestTimeout, -32008), (.conflict, -32009), (.tooLarge, -32013), (.unsupportedFileType, -32015),
            (.rangeNotSatisfiable, -32016), (.rateLimited, -32029), (.unavailable, -32050),
        ]
        for (code, value) in table { #expect(code.rawValue == value) }
        #expect(Set(table.map(\.0.defaultMessage)).count == table.count)
    }

    @Test func dataShapesMatchAPI() {
        #expect(text(.invalidParams(field: "title", message: "is required"))
            == #"{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"title","message":"is required"}]}}"#)
        #expect(text(.invalidParams([.init(field: "a", message: "x"), .init(field: "b.0", message: "y")]))
            == #"{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"a","message":"x"},{"field":"b.0","message":"y"}]}}"#)
        #expect(text(.conflict(field: "username")) == #"{"code":-32009,"message":"Conflict","data":{"field":"username"}}"#)
        #expect(text(.conflict(field: nil)) == #"{"code":-32009,"message":"Conflict"}"#)
        #expect(text(.rateLimited(retryAfterMs: 1500)) == #"{"code":-32029,"message":"Rate limited","data":{"retryAfterMs":1500}}"#)
        #expect(text(.tooLarge(limit: 50)) == #"{"code":-32013,"message":"Too large","data":{"limit":50}}"#)
        #expect(text(.unsupportedFileType(allowed: ["image/png", "application/pdf"]))
            == #"{"code":-32015,"message":"Unsupported file type","data":{"allowed":["image/png","application/pdf"]}}"#)
        #expect(text(.rangeNotSatisfiable(size: 26_214_400))
            == #"{"code":-32016,"message":"Range not satisfiable","data":{"size":26214400}}"#)
        #expect(text(RPCError(.notFound)) == #"{"code":-32004,"message":"Not found"}"#)
        #expect(text(RPCError(.forbidden, message: "Only the owner may delete a task"))
            == #"{"code":-32003,"message":"Only the owner may delete a task"}"#)
    }

    @Test func fieldErrorsReadBack() {
        let error = RPCError.invalidParams(field: "tags.3", message: "must be a string")
        #expect(error.fieldErrors == [.init(field: "tags.3", message: "must be a string")])
        #expect(RPCError(.notFound).fieldErrors.isEmpty)
    }

    @Test func theUnderlyingErrorStaysOutOfTheWireAndTheDescription() {
        struct Secret: Error, CustomStringConvertible { var description: String { "password=hunter2" } }
        let error = RPCError.internalError(underlying: Secret())
        #expect(!text(error).contains("hunter2"))
        #expect(!error.description.contains("hunter2"))
        #expect(error.debugDescription.contains("hunter2"))
    }

    @Test func unknownCodesAreAllowed() {
        let code = RPCError.Code(rawValue: -32099)
        #expect(RPCError(code).message == "Error")
        #expect(text(RPCError(code, message: "Custom")) == #"{"code":-32099,"message":"Custom"}"#)
    }
}
