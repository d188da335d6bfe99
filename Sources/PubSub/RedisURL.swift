import ByteCoding

/// A parsed `redis://[:password@|user:password@]host[:port][/db]` URL.
///
/// User and password are percent-decoded (`%40` for `@`, `%3A` for `:`); a password may also
/// hold a raw `@` or `/`, since the authority ends at the last `@`. IPv6 hosts go in brackets
/// (`redis://[::1]:6380`). `rediss://` is refused: Debian's hiredis (0.14) has no TLS.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 6379

    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+); nil for the `default` user with `AUTH password`.
    public var username: String?
    public var password: String?
    /// The logical database `SELECT`ed after connecting.
    public var database: Int

    public init(host: String, port: Int = RedisURL.defaultPort, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a URL.
    ///
    /// - Throws: a `RedisError` of kind `configuration` whose message says what is wrong and never
    ///   repeats the password.
    public init(_ text: String) throws(RedisError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("rediss://") {
            throw Self.invalid(
                "rediss:// is not supported: Debian's hiredis has no TLS; put Redis on a private network or use a TLS tunnel"
            )
        }
        guard lowered.hasPrefix("redis://") else {
            throw Self.invalid("a Redis URL starts with redis://")
        }
        var rest = text.dropFirst("redis://".count)

        // The userinfo ends at the last "@": the path and port never contain one.
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userinfo[..<colon], what: "user name")
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], what: "password")
            } else if !userinfo.isEmpty {
                throw Self.invalid("the URL names a user but no password; write redis://:password@host for a password alone")
            }
        }

        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        if authority.contains("?") || path.contains("?") || authority.contains("#") || path.contains("#") {
            throw Self.invalid("query parameters and fragments are not supported in a Redis URL")
        }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Self.invalid("an IPv6 host must end with ]")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw Self.invalid("the URL has no host") }

        var port = Self.defaultPort
        if let portText {
            guard let value = Self.decimal(portText), (1...65535).contains(value) else {
                throw Self.invalid("the port must be a number from 1 to 65535")
            }
            port = value
        }

        var database = 0
        if !path.isEmpty {
            guard let value = Self.decimal(path), value <= Int(Int32.max) else {
                throw Self.invalid("the path must be a database number (redis://host/0)")
            }
            database = value
        }

        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }

    /// The URL with the password replaced by `***`, for logs.
    public var redacted: String {
        var text = "redis://"
        if password != nil { text += (username.map { PercentEncoding.encode($0) } ?? "") + ":***@" }
        text += host.contains(":") ? "[\(host)]" : host
        text += ":\(port)/\(database)"
        return text
    }

    public var description: String { redacted }

    private static func invalid(_ message: String) -> RedisError {
        RedisError(kind: .configuration, message: "invalid Redis URL: " + message)
    }

    /// Digits only (no sign, no spaces), at most 10 of them.
    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 10, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    private static func percentDecoded(_ text: Substring, what: String) throws(RedisError) -> String {
        guard let bytes = PercentEncoding.decode(text.utf8) else {
            throw invalid("the \(what) has a bad percent escape (use %XX with two hex digits)")
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw invalid("the \(what) is not valid UTF-8 once decoded")
        }
        return decoded
    }
}
