public import NIOHTTP1

extension StringProtocol {
    /// Without leading and trailing optional white space (RFC 9110 §5.6.3: spaces and tabs).
    public var trimmingHTTPSpaces: SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else {
            return self[self.endIndex...]
        }
        return self[first...last]
    }
}

extension HTTPHeaders {
    /// Whether `If-None-Match` names `etag` or is `*`: the client's copy is current and the
    /// answer is 304 (RFC 9110 §13.1.2).
    public func ifNoneMatch(_ etag: String) -> Bool {
        guard let tags = self.first(name: "If-None-Match") else { return false }
        return tags.trimmingHTTPSpaces == "*" || tags.split(separator: ",").contains { $0.trimmingHTTPSpaces == etag }
    }
}

extension HTTPHeaders {
    /// The token of the one `Authorization: Bearer <token>` header: `.none` without the header,
    /// `.some(nil)` for anything that is not exactly one well-formed bearer credential (the
    /// scheme is case-insensitive, RFC 7235).
    public var bearerToken: String?? {
        let values = self["Authorization"]
        guard !values.isEmpty else { return .none }
        guard values.count == 1 else { return .some(nil) }
        let parts = values[0].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .some(nil) }
        let token = parts[1].trimmingHTTPSpaces
        return token.isEmpty || token.contains(" ") ? .some(nil) : .some(String(token))
    }
}
