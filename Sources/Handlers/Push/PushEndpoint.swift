/// The rules for a subscription's `endpoint` (docs/push.md): an absolute `https` URL with a
/// host and no credentials, at most ``PushSettings/maxEndpointBytes``; `http` only on a
/// loopback host, and only when ``PushSettings/allowHTTPOnLoopback`` says so. Nothing else
/// can make the server post somewhere: not a private address, not a `file:` URL.
public enum PushEndpoint {
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

    /// The origin of `endpoint`, as RFC 8292 §2 wants it for a VAPID token's `aud` and as the
    /// device list shows the push service: `scheme://host`, with
    /// `:port` only when it is not the scheme's default (RFC 6454 serialization), scheme and
    /// host in lower case. Nil for anything but an `http` or `https` URL with a host and no
    /// user information.
    public static func origin(_ endpoint: String) -> String? {
        let bytes = Array(endpoint.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
              bytes.count > colon + 2, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
        else { return nil }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        let defaultPort: String
        switch scheme {
        case "https": defaultPort = "443"
        case "http": defaultPort = "80"
        default: return nil
        }
        let authorityStart = colon + 3
        let authorityEnd = bytes[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? bytes.count
        let authority = bytes[authorityStart..<authorityEnd]
        // Printable ASCII only, no user information: neither belongs in a push endpoint.
        guard !authority.isEmpty, authority.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "@") }) else {
            return nil
        }
        var host = authority[...]
        var port: ArraySlice<UInt8> = []
        if host.first == UInt8(ascii: "[") {
            // An IPv6 literal: the port, if any, follows the closing bracket.
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = host[(close + 1)...]
            host = host[...close]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                port = rest.dropFirst()
            }
        } else if let portColon = host.firstIndex(of: UInt8(ascii: ":")) {
            port = host[(portColon + 1)...]
            host = host[..<portColon]
        }
        guard !host.isEmpty, port.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), port.count <= 5 else {
            return nil
        }
        var origin = scheme + "://" + String(decoding: host, as: UTF8.self).lowercased()
        if !port.isEmpty {
            // Leading zeros are not part of the port's value.
            let value = String(Int(String(decoding: port, as: UTF8.self))!)
            guard Int(value)! <= 65535 else { return nil }
            if value != defaultPort { origin += ":" + value }
        }
        return origin
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
