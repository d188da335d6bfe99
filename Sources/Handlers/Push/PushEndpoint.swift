/// The rules for a subscription's `endpoint` (docs/push.md): an absolute `https` URL with a
/// host and no credentials, at most ``PushSettings/maxEndpointBytes``; `http` only on a
/// loopback host, and only when ``PushSettings/allowHTTPOnLoopback`` says so. Nothing else
/// can make the server post somewhere: not a private address, not a `file:` URL.
enum PushEndpoint {
    /// Why `text` is not an endpoint this server posts to; nil when it is.
    static func problem(_ text: String, settings: PushSettings) -> String? {
        guard !text.isEmpty else { return "must not be empty" }
        guard text.utf8.count <= settings.maxEndpointBytes else { return "must be at most \(settings.maxEndpointBytes) bytes" }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return "must be a URL of printable ASCII without spaces" }
        let lower = text.lowercased()
        let secure = lower.hasPrefix("https://")
        guard secure || lower.hasPrefix("http://") else { return "must be an https URL" }
        let rest = text.dropFirst(secure ? 8 : 7)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else { return "must be an https URL with a host" }
        guard !text.contains("#") else { return "must not have a fragment" }
        guard let host = host(of: Substring(authority)) else { return "must have a valid host and port" }
        if !secure {
            guard settings.allowHTTPOnLoopback, isLoopback(host) else { return "must be an https URL" }
        }
        return nil
    }

    /// `scheme://host[:port]` of a valid endpoint: a VAPID token's `aud` and what the device
    /// list shows as the push service.
    static func origin(_ endpoint: String) -> String {
        let lower = endpoint.lowercased()
        let scheme = lower.hasPrefix("https://") ? "https" : lower.hasPrefix("http://") ? "http" : nil
        guard let scheme else { return endpoint }
        let rest = endpoint.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return scheme + "://" + authority.lowercased()
    }

    /// The host of `host[:port]` or `[v6][:port]`, nil when the port is not 1...65535.
    private static func host(of authority: Substring) -> Substring? {
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { return nil }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), let value = Int(port), (1...65535).contains(value) else {
                return nil
            }
        }
        return host
    }

    private static func isLoopback(_ host: Substring) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
            && host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}
