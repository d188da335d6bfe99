public import NIOHTTP1

/// What the async route handlers need of a request: a copy of its head, parsed once.
struct RESTRequest: Sendable {
    var method: HTTPMethod
    var route: RESTRoute
    var query: QueryString
    var headers: HTTPHeaders
    var clientAddress: String

    var bearerToken: String?? {
        let values = headers["Authorization"]
        guard !values.isEmpty else { return .none }
        guard values.count == 1 else { return .some(nil) }
        let parts = values[0].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .some(nil) }
        let token = parts[1].trimmingPrefixSpaces
        return token.isEmpty || token.contains(" ") ? .some(nil) : .some(String(token))
    }
}
