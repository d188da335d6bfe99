import ByteCoding

/// Where the outbound SMTP relay is, how to secure the connection, and how to log in
/// (one `FAROS_SMTP_URL`-style setting).
///
/// The URL form is `smtp://[user[:password]@]host[:port][?starttls=try|required|off]` or
/// `smtps://[user[:password]@]host[:port]` (TLS from the first byte, default port 465; smtp's is
/// 25). User and password are percent-decoded. The password is kept out of ``description`` and
/// out of every error this type throws, so the configuration can be logged as it is.
///
/// A password is never sent in clear: with credentials, `starttls=try` (the smtp:// default) is
/// upgraded to `required`, and `starttls=off` is refused. A relay that offers no STARTTLS then
/// fails the send (transient) instead of receiving the password unencrypted.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// How the connection is encrypted.
    public enum TransportSecurity: Sendable, Equatable, CustomStringConvertible {
        /// `smtps://`: TLS from the first byte (RFC 8314, port 465).
        case implicitTLS
        /// `starttls=required`: upgrade with STARTTLS or fail.
        case startTLSRequired
        /// `starttls=try`: upgrade when the server offers STARTTLS, else continue in clear.
        /// Only without credentials (see the type's documentation).
        case startTLSIfOffered
        /// `starttls=off`: cleartext SMTP, for a relay on loopback or a private network.
        case plaintext

        public var description: String {
            switch self {
            case .implicitTLS: return "implicit TLS"
            case .startTLSRequired: return "STARTTLS required"
            case .startTLSIfOffered: return "STARTTLS if offered"
            case .plaintext: return "no TLS"
            }
        }
    }

    /// Why a configuration was refused. The message names the offending part of the URL, never
    /// the password.
    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        /// What is wrong, naming the offending part of the URL (never the password).
        public let message: String
        init(_ message: String) { self.message = message }
        public var description: String { "SMTP configuration: \(self.message)" }
    }

    /// Host name or IP address (an IPv6 literal without its brackets).
    public let host: String
    /// 25 for smtp://, 465 for smtps:// unless the URL names one (587 is the usual submission port).
    public let port: Int
    /// The effective security, after the credentials upgrade described on the type.
    public let security: TransportSecurity
    /// The AUTH user name (percent-decoded), nil when the relay needs no login.
    public let username: String?
    /// Internal, so that it reaches libcurl but no log line, error or caller by accident.
    let password: String?
    /// A PEM bundle of CA certificates trusted instead of the system's (a private relay's CA).
    public var caFile: String?
    /// How long TCP connect plus the TLS handshake may take.
    public var connectTimeout: Duration
    /// How long one whole exchange may take, greeting to the reply after the message.
    public var timeout: Duration

    /// Parses `url` (see the type's documentation). Throws ``ParseError`` naming what is wrong:
    /// another scheme, no host, a bad port, an unknown or repeated query option, a malformed
    /// percent-escape, or credentials that would have to travel in clear.
    ///
    /// The user information ends at the *last* `@`, so a password with an unencoded `@`, `/`,
    /// `?` or `#` is still read whole rather than spilling into the host (and into an error
    /// message).
    public init(url: String, caFile: String? = nil,
                connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(60)) throws {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw ParseError("not an smtp:// or smtps:// URL (no '://')")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let implicitTLS: Bool
        switch scheme {
        case "smtp": implicitTLS = false
        case "smtps": implicitTLS = true
        default:
            let shown = scheme.isEmpty ? "(empty)" : String(scheme.prefix(32))
            throw ParseError("unsupported scheme '\(shown)': use smtp:// (STARTTLS) or smtps:// (implicit TLS)")
        }
        var rest = Substring(url[schemeEnd.upperBound...])

        var username: String? = nil
        var password: String? = nil
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let user: Substring
            let pass: Substring?
            if let colon = userinfo.firstIndex(of: ":") {
                user = userinfo[..<colon]
                pass = userinfo[userinfo.index(after: colon)...]
            } else {
                user = userinfo
                pass = nil
            }
            username = try Self.percentDecode(user, what: "user")
            password = try pass.map { try Self.percentDecode($0, what: "password") }
            guard username?.isEmpty == false else { throw ParseError("a password needs a user name before it") }
            guard password != nil else {
                throw ParseError("user given without a password (write smtp://user:password@host)")
            }
        }

        // What is left: host[:port][/][?query]. Nothing here can hold the password.
        var query: Substring? = nil
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if rest.contains("#") { throw ParseError("a fragment ('#') is not supported") }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[slash...]
            guard path == "/" else {
                throw ParseError("path '\(path.prefix(64))' is not supported (the EHLO name is send(localName:))")
            }
            rest = rest[..<slash]
        }

        let hostPart: Substring
        var portPart: Substring? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ParseError("IPv6 address without its closing ']'") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ParseError("unexpected '\(after.prefix(64))' after the IPv6 address") }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
        }
        guard !hostPart.isEmpty else { throw ParseError("missing host") }

        var port = implicitTLS ? 465 : 25
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(portPart), (1...65535).contains(value)
            else {
                throw ParseError("bad port '\(portPart.prefix(16))' (expected 1...65535)")
            }
            port = value
        }

        var security: TransportSecurity = implicitTLS ? .implicitTLS : .startTLSIfOffered
        var seen: Set<Substring> = []
        for item in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring
            let value: Substring
            if let equals = item.firstIndex(of: "=") {
                key = item[..<equals]
                value = item[item.index(after: equals)...]
            } else {
                key = item
                value = ""
            }
            guard seen.insert(key).inserted else { throw ParseError("option '\(key.prefix(32))' given twice") }
            switch key {
            case "starttls":
                guard !implicitTLS else {
                    throw ParseError("starttls applies to smtp:// only; smtps:// is TLS from the first byte")
                }
                switch value.lowercased() {
                case "try": security = .startTLSIfOffered
                case "required": security = .startTLSRequired
                case "off": security = .plaintext
                default: throw ParseError("starttls must be try, required or off, not '\(value.prefix(32))'")
                }
            default:
                throw ParseError("unknown option '\(key.prefix(32))' (known: starttls)")
            }
        }

        try self.init(host: String(hostPart), port: port, security: security, username: username, password: password,
                      caFile: caFile, connectTimeout: connectTimeout, timeout: timeout)
    }

    /// The same without a URL. Applies the credentials rule (`startTLSIfOffered` becomes
    /// `startTLSRequired`, `plaintext` is refused) and checks the host's characters, since the
    /// host ends up inside the URL handed to libcurl.
    public init(host: String, port: Int, security: TransportSecurity, username: String? = nil, password: String? = nil,
                caFile: String? = nil, connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(60)) throws {
        guard !host.isEmpty else { throw ParseError("missing host") }
        guard Self.isValidHost(host) else {
            throw ParseError("host '\(host.prefix(64))' has characters a host name or IP address cannot have")
        }
        guard (1...65535).contains(port) else { throw ParseError("bad port '\(port)' (expected 1...65535)") }
        guard (username == nil) == (password == nil) else { throw ParseError("user name and password go together") }
        for (name, value) in [("user", username), ("password", password)] {
            if let value, value.utf8.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A }) {
                throw ParseError("\(name) contains NUL, CR or LF")
            }
        }
        guard connectTimeout > .zero, timeout > .zero else { throw ParseError("timeouts must be positive") }

        var effective = security
        if username != nil {
            switch security {
            case .startTLSIfOffered: effective = .startTLSRequired
            case .plaintext:
                throw ParseError("credentials with starttls=off would send the password in clear; "
                                 + "use starttls=required or smtps://")
            case .implicitTLS, .startTLSRequired: break
            }
        }
        self.host = host
        self.port = port
        self.security = effective
        self.username = username
        self.password = password
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// The relay as a URL with the password replaced by `***`: safe for logs.
    public var description: String {
        var text = self.security == .implicitTLS ? "smtps://" : "smtp://"
        if let username = self.username { text += PercentEncoding.encode(username) + ":***@" }
        text += self.urlHost + ":\(self.port)"
        switch self.security {
        case .implicitTLS: break
        case .startTLSRequired: text += "?starttls=required"
        case .startTLSIfOffered: text += "?starttls=try"
        case .plaintext: text += "?starttls=off"
        }
        return text
    }

    /// The host as it goes into a URL: IPv6 literals in brackets.
    var urlHost: String { self.host.contains(":") ? "[\(self.host)]" : self.host }

    /// Letters, digits, `-`, `.`, `_` (container names), or an IPv6 literal (hex digits, `:`,
    /// `.`, and a `%zone`). Non-ASCII names must be given in their punycode form.
    static func isValidHost(_ host: String) -> Bool {
        if host.contains(":") {
            return host.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                     UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: ":"), UInt8(ascii: "."): return true
                default: return false
                }
            }
        }
        return host.utf8.count <= 253 && host.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"): return true
            default: return false
            }
        }
    }

    /// `%XX` to bytes, then UTF-8. The error names only which part was malformed.
    static func percentDecode(_ text: Substring, what: String) throws -> String {
        guard let bytes = PercentEncoding.decode(text.utf8) else {
            throw ParseError("malformed percent-escape in the \(what)")
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw ParseError("the \(what) is not UTF-8 once percent-decoded")
        }
        return decoded
    }
}
