import HTTPEdge
import NIOHTTP1
import Testing

/// The header fields every HTTP path reads the same way.
struct HTTPHeadersFieldsTests {
    @Test func optionalWhiteSpaceIsTrimmedOnBothEnds() {
        #expect(" \t a b \t".trimmingHTTPSpaces == "a b")
        #expect("   ".trimmingHTTPSpaces == "")
        #expect("x".trimmingHTTPSpaces == "x")
    }

    @Test func ifNoneMatchNamesTheTagOrEverything() {
        #expect(HTTPHeaders([("If-None-Match", #""a", "b""#)]).ifNoneMatch(#""b""#))
        #expect(HTTPHeaders([("If-None-Match", " * ")]).ifNoneMatch(#""b""#))
        #expect(!HTTPHeaders([("If-None-Match", #""a""#)]).ifNoneMatch(#""b""#))
        #expect(!HTTPHeaders().ifNoneMatch(#""b""#))
    }

    @Test(arguments: [
        ("", nil as String??), ("Bearer abc", .some("abc")), ("bearer   abc", .some("abc")),
        ("Basic abc", .some(nil)), ("Bearer", .some(nil)), ("Bearer a b", .some(nil)),
    ])
    func bearerTokens(value: String, expected: String??) {
        let headers = value.isEmpty ? HTTPHeaders() : HTTPHeaders([("Authorization", value)])
        #expect(headers.bearerToken == expected)
    }

    @Test func twoAuthorizationHeadersAreNoToken() {
        #expect(HTTPHeaders([("Authorization", "Bearer a"), ("Authorization", "Bearer b")]).bearerToken == .some(nil))
    }
}
