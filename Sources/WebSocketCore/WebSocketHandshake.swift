import ByteCoding
public import NIOHTTP1

/// The server side of the WebSocket opening handshake (RFC 6455 §4.2), as a pure function of
/// the request head.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 §1.3 appends to the key before hashing.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
    /// base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(Digest.sha1(Array((key + Self.acceptGUID).utf8)))
    }

    /// Decides whether to upgrade the request (RFC 6455 §4.2.1) and with which headers.
    ///
    /// Checks, in order: GET (else 405 with `Allow: GET`); HTTP/1.1 or later (else 400);
    /// `Upgrade` lists `websocket` (else 426 with `Upgrade: websocket`); `Connection` lists
    /// `upgrade` (else 400); exactly one `Sec-WebSocket-Key` of 16 base64-encoded bytes (else
    /// 400); `Sec-WebSocket-Version: 13` (else 426 naming 13); an `Origin`, when sent, that is
    /// allowed (else 403). Then it picks the subprotocol and, when `configuration.deflate` is
    /// set, negotiates permessage-deflate from every `Sec-WebSocket-Extensions` value (an
    /// unacceptable offer is declined, not refused: the connection goes on uncompressed).
    public static func evaluate(
        _ head: HTTPRequestHead,
        configuration: WebSocketHandshakeConfiguration
    ) -> WebSocketHandshakeOutcome {
        let headers = head.headers
        guard head.method == .GET else {
            return .reject(status: .methodNotAllowed, headers: ["Allow": "GET"], reason: "WebSocket upgrade needs GET")
        }
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else {
            return .reject(status: .badRequest, headers: [:], reason: "WebSocket upgrade needs HTTP/1.1")
        }
        guard headers[canonicalForm: "Upgrade"].contains(where: { Self.equalsIgnoringCase($0, "websocket") }) else {
            return .reject(
                status: .upgradeRequired,
                headers: ["Upgrade": "websocket", "Connection": "Upgrade"],
                reason: "Upgrade: websocket expected"
            )
        }
        guard headers[canonicalForm: "Connection"].contains(where: { Self.equalsIgnoringCase($0, "upgrade") }) else {
            return .reject(status: .badRequest, headers: [:], reason: "Connection: Upgrade expected")
        }
        let keys = headers["Sec-WebSocket-Key"]
        guard keys.count == 1, let decodedKey = Base64.decode(Self.trimmed(keys[0])), decodedKey.count == 16 else {
            return .reject(status: .badRequest, headers: [:], reason: "invalid Sec-WebSocket-Key")
        }
        let versions = headers["Sec-WebSocket-Version"]
        guard versions.count == 1, Self.trimmed(versions[0]) == "13" else {
            return .reject(
                status: .upgradeRequired,
                headers: ["Sec-WebSocket-Version": "13"],
                reason: "unsupported Sec-WebSocket-Version"
            )
        }
        let origins = headers["Origin"]
        if !origins.isEmpty {
            guard origins.count == 1,
                Self.isAllowed(origin: Self.trimmed(origins[0]), host: headers["Host"], configuration: configuration)
            else {
                return .reject(status: .forbidden, headers: [:], reason: "origin not allowed")
            }
        }

        let offered = headers[canonicalForm: "Sec-WebSocket-Protocol"]
        let subprotocol = offered.first(where: { configuration.subprotocols.contains(String($0)) }).map(String.init)

        var response = HTTPHeaders()
        response.add(name: "Upgrade", value: "websocket")
        response.add(name: "Connection", value: "Upgrade")
        response.add(name: "Sec-WebSocket-Accept", value: Self.acceptValue(forKey: String(Self.trimmed(keys[0]))))
        if let subprotocol {
            response.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        var deflate: PerMessageDeflateParameters?
        if let deflateConfiguration = configuration.deflate,
            let agreed = PerMessageDeflateNegotiation.negotiate(
                offerHeaders: headers["Sec-WebSocket-Extensions"],
                configuration: deflateConfiguration
            )
        {
            deflate = agreed.parameters
            response.add(name: "Sec-WebSocket-Extensions", value: agreed.response)
        }
        return .accept(headers: response, subprotocol: subprotocol, deflate: deflate)
    }

    /// Whether `origin` is the request's own origin or a configured one.
    static func isAllowed(origin: Substring, host: [String], configuration: WebSocketHandshakeConfiguration) -> Bool {
        Self.isAllowed(origin: origin, host: host, allowedOrigins: configuration.allowedOrigins,
                       serverOrigin: configuration.serverOrigin?.current)
    }

    /// The one origin rule of the server, for the upgrade and for the REST bridge alike: the
    /// server itself, or one of `allowedOrigins` (compared after ``normalizedOrigin(_:)``, or
    /// literally for `null`).
    ///
    /// The server itself is the request's own origin (`http://` or `https://` plus its one
    /// `Host`) and `serverOrigin` (the public URL's, with the bound port). For those, the
    /// loopback names `localhost`, `127.0.0.1` and `[::1]` are one host: a page loaded through
    /// `http://localhost:8080` talks to the server it came from when it reaches
    /// `127.0.0.1:8080`.
    public static func isAllowed(origin: some StringProtocol, host: [String], allowedOrigins: Set<String>, serverOrigin: String? = nil) -> Bool {
        let origin = Substring(origin)
        if allowedOrigins.contains(String(origin)) {
            return true
        }
        guard let normalized = Self.normalizedOrigin(origin) else { return false }
        if allowedOrigins.contains(where: { Self.normalizedOrigin($0) == normalized }) {
            return true
        }
        var own: [String] = serverOrigin.map { [$0] } ?? []
        if host.count == 1 {
            let host = Self.trimmed(host[0])
            own += ["http://\(host)", "https://\(host)"].compactMap { Self.normalizedOrigin($0) }
        }
        let key = Self.loopbackAliased(normalized)
        return own.contains { Self.loopbackAliased($0) == key }
    }

    /// A normalized origin with a loopback host written one way, so that `localhost`,
    /// `127.0.0.1` and `[::1]` on the same scheme and port compare equal.
    static func loopbackAliased(_ normalized: String) -> String {
        guard let colon = normalized.firstIndex(of: ":"), normalized[colon...].hasPrefix("://") else { return normalized }
        let rest = normalized[colon...].dropFirst(3)
        let hostEnd = rest.hasPrefix("[") ? rest.firstIndex(of: "]").map { rest.index(after: $0) } ?? rest.endIndex
            : rest.firstIndex(of: ":") ?? rest.endIndex
        guard ["localhost", "127.0.0.1", "[::1]"].contains(rest[..<hostEnd]) else { return normalized }
        return normalized[..<rest.startIndex] + "loopback" + rest[hostEnd...]
    }

    /// The comparable form of an origin: `scheme://host[:port]` in lower case, without the
    /// scheme's default port (80 for http and ws, 443 for https and wss) and without a trailing
    /// slash; `nil` for `null` or anything that is not such an origin.
    public static func normalizedOrigin(_ origin: some StringProtocol) -> String? {
        let lowered = Self.trimmed(Substring(origin)).lowercased()
        guard let schemeEnd = lowered.firstIndex(of: ":") else { return nil }
        let scheme = lowered[..<schemeEnd]
        guard let firstCharacter = scheme.first, firstCharacter.isLetter,
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        var rest = lowered[schemeEnd...]
        guard rest.hasPrefix("://") else { return nil }
        rest = rest.dropFirst(3)
        if rest.hasSuffix("/") {
            rest = rest.dropLast()
        }
        guard !rest.isEmpty, !rest.contains(where: { "/?#@ \t".contains($0) }) else { return nil }

        let host: Substring
        var port: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            port = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return nil }

        var portNumber: Int?
        if let port, !port.isEmpty {
            guard port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port), number <= 65535 else {
                return nil
            }
            portNumber = number
        }
        switch (scheme, portNumber) {
        case ("http", 80), ("ws", 80), ("https", 443), ("wss", 443):
            portNumber = nil
        default:
            break
        }
        if let portNumber {
            return "\(scheme)://\(host):\(portNumber)"
        }
        return "\(scheme)://\(host)"
    }

    private static func trimmed(_ value: some StringProtocol) -> Substring {
        let value = Substring(value)
        guard let start = value.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = value.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return value[start...end]
    }

    private static func equalsIgnoringCase(_ value: Substring, _ lowercaseToken: String) -> Bool {
        value.utf8.elementsEqual(lowercaseToken.utf8) { a, b in
            (a >= UInt8(ascii: "A") && a <= UInt8(ascii: "Z") ? a | 0x20 : a) == b
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool {
        self >= "0" && self <= "9"
    }
}
