/// Server-side negotiation of permessage-deflate in the opening handshake (RFC 7692 §5, §7.1).
public enum PerMessageDeflateNegotiation {
    /// The extension's registered name.
    public static let extensionName = "permessage-deflate"

    /// Picks the first acceptable permessage-deflate offer among all `Sec-WebSocket-Extensions`
    /// header values and returns the agreed parameters and the response header value.
    ///
    /// Each header value is a comma-separated list of offers `name; p1; p2=v`, values being
    /// tokens or quoted-strings. An offer with a syntax error, an unknown or repeated
    /// parameter, or an invalid value is declined and the next offer is tried (RFC 7692 §5.1).
    ///
    /// - Returns: nil when no offer is acceptable: the connection then goes on uncompressed.
    public static func negotiate(
        offerHeaders: [String],
        configuration: PerMessageDeflateConfiguration
    ) -> (parameters: PerMessageDeflateParameters, response: String)? {
        for header in offerHeaders {
            for element in splitList(Array(header.utf8)) {
                guard let offer = parseExtension(element),
                    asciiLowercased(offer.name) == extensionName,
                    let accepted = accept(offer.parameters, configuration: configuration)
                else { continue }
                return accepted
            }
        }
        return nil
    }

    /// Decides on one syntactically valid permessage-deflate offer.
    private static func accept(
        _ offered: [(name: String, value: String?)],
        configuration: PerMessageDeflateConfiguration
    ) -> (parameters: PerMessageDeflateParameters, response: String)? {
        var seen: Set<String> = []
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        var serverMaxWindowBits: Int?
        var clientMaxWindowBitsOffered = false
        var clientMaxWindowBits = 15

        for (rawName, value) in offered {
            let name = asciiLowercased(rawName)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let value, let bits = windowBits(value) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                // Without a value the client merely says it understands the parameter.
                if let value {
                    guard let bits = windowBits(value) else { return nil }
                    clientMaxWindowBits = bits
                }
                clientMaxWindowBitsOffered = true
            default:
                return nil
            }
        }

        var parameters = PerMessageDeflateParameters()
        var response = extensionName
        if serverNoContextTakeover || configuration.requestServerNoContextTakeover {
            parameters.serverNoContextTakeover = true
            response += "; server_no_context_takeover"
        }
        // A server may ask for this even when the client did not offer it (RFC 7692 §7.1.1.2).
        if clientNoContextTakeover || configuration.requestClientNoContextTakeover {
            parameters.clientNoContextTakeover = true
            response += "; client_no_context_takeover"
        }
        if let serverMaxWindowBits {
            // Echoed as offered: some clients reject a smaller value although RFC 7692 allows
            // it. We may still deflate with a smaller window (configuration.deflateWindowBits).
            parameters.serverMaxWindowBits = serverMaxWindowBits
            response += "; server_max_window_bits=\(serverMaxWindowBits)"
        }
        // Only when offered: a client that did not offer it may not understand it (§7.1.2.2).
        if clientMaxWindowBitsOffered {
            let bits = min(clientMaxWindowBits, min(max(configuration.clientMaxWindowBits, 8), 15))
            parameters.clientMaxWindowBits = bits
            response += "; client_max_window_bits=\(bits)"
        }
        return (parameters, response)
    }

    /// A window size value: exactly "8" through "15" (RFC 7692 §7.1.2: no sign, no leading zero).
    private static func windowBits(_ value: String) -> Int? {
        let utf8 = Array(value.utf8)
        guard (1...2).contains(utf8.count), utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            utf8[0] != UInt8(ascii: "0"), let bits = Int(value), (8...15).contains(bits)
        else { return nil }
        return bits
    }

    // MARK: Header syntax (RFC 6455 §9.1, RFC 7230 §3.2.6, §7)

    /// Splits a header value at the commas that are outside quoted-strings.
    ///
    /// Empty elements are dropped (RFC 7230 §7). An unterminated quoted-string runs to the end,
    /// so that element fails to parse without disturbing the ones before it.
    private static func splitList(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var elements: [ArraySlice<UInt8>] = []
        var start = 0
        var inQuotes = false
        var escaped = false
        for index in bytes.indices {
            let byte = bytes[index]
            if inQuotes {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inQuotes = true
            } else if byte == UInt8(ascii: ",") {
                elements.append(bytes[start..<index])
                start = index + 1
            }
        }
        elements.append(bytes[start...])
        return elements.filter { !$0.allSatisfy(isWhitespace) }
    }

    /// Parses `token *( OWS ";" OWS token [ "=" ( token / quoted-string ) ] )` with optional
    /// whitespace around every token; nil on any syntax error.
    private static func parseExtension(_ element: ArraySlice<UInt8>) -> (name: String, parameters: [(name: String, value: String?)])? {
        var cursor = element.startIndex
        let end = element.endIndex

        func skipWhitespace() {
            while cursor < end, isWhitespace(element[cursor]) { cursor += 1 }
        }
        func token() -> String? {
            let start = cursor
            while cursor < end, isTokenCharacter(element[cursor]) { cursor += 1 }
            return cursor > start ? String(decoding: element[start..<cursor], as: UTF8.self) : nil
        }
        func quotedString() -> String? {
            // The opening quote is at `cursor`.
            cursor += 1
            var unescaped: [UInt8] = []
            while cursor < end {
                let byte = element[cursor]
                cursor += 1
                if byte == UInt8(ascii: "\"") {
                    // After unescaping, the value must still be a token (RFC 6455 §9.1).
                    guard !unescaped.isEmpty, unescaped.allSatisfy(isTokenCharacter) else { return nil }
                    return String(decoding: unescaped, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") {
                    guard cursor < end else { return nil }
                    unescaped.append(element[cursor])
                    cursor += 1
                } else {
                    unescaped.append(byte)
                }
            }
            return nil
        }

        skipWhitespace()
        guard let name = token() else { return nil }
        var parameters: [(name: String, value: String?)] = []
        skipWhitespace()
        while cursor < end {
            guard element[cursor] == UInt8(ascii: ";") else { return nil }
            cursor += 1
            skipWhitespace()
            guard let parameterName = token() else { return nil }
            skipWhitespace()
            var value: String?
            if cursor < end, element[cursor] == UInt8(ascii: "=") {
                cursor += 1
                skipWhitespace()
                guard cursor < end else { return nil }
                value = element[cursor] == UInt8(ascii: "\"") ? quotedString() : token()
                guard value != nil else { return nil }
                skipWhitespace()
            }
            parameters.append((parameterName, value))
        }
        return (name, parameters)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// RFC 7230 §3.2.6 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// Extension and parameter names are compared without ASCII case (HTTP tokens).
    private static func asciiLowercased(_ string: String) -> String {
        String(decoding: string.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
