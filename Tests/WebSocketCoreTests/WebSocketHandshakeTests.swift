import NIOHTTP1
import Testing

@testable import WebSocketCore

/// The client handshake of RFC 6455 §1.3, with `replacing` headers swapped in (an empty value
/// removes the header) and `adding` headers appended.
func upgradeRequest(
    method: HTTPMethod = .GET,
    version: HTTPVersion = .http1_1,
    replacing: [String: String] = [:],
    adding: [(String, String)] = []
) -> HTTPRequestHead {
    var fields: [(String, String)] = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]
    for (name, value) in replacing {
        fields.removeAll { $0.0 == name }
        if !value.isEmpty { fields.append((name, value)) }
    }
    fields += adding
    return HTTPRequestHead(version: version, method: method, uri: "/rpc", headers: HTTPHeaders(fields))
}

@Suite("WebSocketHandshake")
struct WebSocketHandshakeTests {
    static let configuration = WebSocketHandshakeConfiguration(
        subprotocols: ["faros.v1"],
        allowedOrigins: ["https://app.example.com", "http://localhost:3000"]
    )

    func evaluate(_ head: HTTPRequestHead, _ configuration: WebSocketHandshakeConfiguration = Self.configuration)
        -> WebSocketHandshakeOutcome
    {
        WebSocketHandshake.evaluate(head, configuration: configuration)
    }

    func expectReject(
        _ outcome: WebSocketHandshakeOutcome,
        _ status: HTTPResponseStatus,
        headers expectedHeaders: [(String, String)] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .reject(let actualStatus, let headers, let reason) = outcome else {
            Issue.record("expected \(status), got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(actualStatus == status, sourceLocation: sourceLocation)
        #expect(!reason.isEmpty, sourceLocation: sourceLocation)
        for (name, value) in expectedHeaders {
            #expect(headers[name] == [value], sourceLocation: sourceLocation)
        }
    }

    func expectAccept(
        _ outcome: WebSocketHandshakeOutcome,
        subprotocol expectedSubprotocol: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .accept(let headers, let subprotocol, _) = outcome else {
            Issue.record("expected accept, got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(subprotocol == expectedSubprotocol, sourceLocation: sourceLocation)
        #expect(headers["Upgrade"] == ["websocket"], sourceLocation: sourceLocation)
        #expect(headers["Connection"] == ["Upgrade"], sourceLocation: sourceLocation)
        #expect(headers["Sec-WebSocket-Accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="], sourceLocation: sourceLocation)
        #expect(headers["Sec-WebSocket-Protocol"] == (expectedSubprotocol.map { [$0] } ?? []), sourceLocation: sourceLocation)
    }

    @Test("RFC 6455 §1.3: the sample key's accept value")
    func acceptValue() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        // A second vector, so that the digest is not only right for one input.
        #expect(WebSocketHandshake.acceptValue(forKey: "x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=")
    }

    @Test("RFC 6455 §1.3's whole client handshake is accepted with the chosen subprotocol")
    func rfcHandshake() {
        let head = upgradeRequest(adding: [
            ("Origin", "http://example.com"), ("Sec-WebSocket-Protocol", "chat, superchat"),
        ])
        let configuration = WebSocketHandshakeConfiguration(subprotocols: ["chat"], allowedOrigins: ["http://example.com"])
        expectAccept(evaluate(head, configuration), subprotocol: "chat")
    }

    @Test("a minimal handshake without Origin or subprotocol is accepted")
    func minimal() {
        expectAccept(evaluate(upgradeRequest()))
        expectAccept(evaluate(upgradeRequest(version: HTTPVersion(major: 2, minor: 0))))
    }

    @Test("methods other than GET get 405 with Allow: GET", arguments: [HTTPMethod.POST, .PUT, .HEAD, .OPTIONS, .DELETE])
    func method(method: HTTPMethod) {
        expectReject(evaluate(upgradeRequest(method: method)), .methodNotAllowed, headers: [("Allow", "GET")])
    }

    @Test("HTTP/1.0 and older get 400")
    func version() {
        expectReject(evaluate(upgradeRequest(version: .http1_0)), .badRequest)
        expectReject(evaluate(upgradeRequest(version: HTTPVersion(major: 0, minor: 9))), .badRequest)
    }

    @Test("Upgrade must list websocket, else 426", arguments: ["", "h2c", "websocket2", "web socket", "websocket/13x, h2c"])
    func upgradeMissing(value: String) {
        expectReject(
            evaluate(upgradeRequest(replacing: ["Upgrade": value])),
            .upgradeRequired,
            headers: [("Upgrade", "websocket")]
        )
    }

    @Test("Upgrade is a case-insensitive comma list", arguments: ["WebSocket", "WEBSOCKET", "h2c, websocket", " websocket ,foo"])
    func upgradeList(value: String) {
        expectAccept(evaluate(upgradeRequest(replacing: ["Upgrade": value])))
    }

    @Test("Connection must list upgrade, else 400", arguments: ["", "keep-alive", "close", "upgrades"])
    func connectionMissing(value: String) {
        expectReject(evaluate(upgradeRequest(replacing: ["Connection": value])), .badRequest)
    }

    @Test("Connection is a case-insensitive comma list", arguments: ["upgrade", "keep-alive, Upgrade", "UPGRADE,keep-alive"])
    func connectionList(value: String) {
        expectAccept(evaluate(upgradeRequest(replacing: ["Connection": value])))
    }

    @Test(
        "Sec-WebSocket-Key must be one base64 value of 16 bytes, else 400",
        arguments: [
            "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j", "dGhlIHNhbXBsZSBub25jZTE=", "dGhlIHNhbXBsZSBub25j====",
            "not base64 at all!!!!!!!", "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==", "dGhl=HNhbXBsZSBub25jZQ==",
        ]
    )
    func badKey(value: String) {
        expectReject(evaluate(upgradeRequest(replacing: ["Sec-WebSocket-Key": value])), .badRequest)
    }

    @Test("two Sec-WebSocket-Key headers get 400")
    func twoKeys() {
        let head = upgradeRequest(adding: [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")])
        expectReject(evaluate(head), .badRequest)
    }

    @Test("Sec-WebSocket-Version must be 13, else 426 naming 13", arguments: ["", "8", "12", "14", "13, 8", "thirteen"])
    func badVersion(value: String) {
        expectReject(
            evaluate(upgradeRequest(replacing: ["Sec-WebSocket-Version": value])),
            .upgradeRequired,
            headers: [("Sec-WebSocket-Version", "13")]
        )
    }

    @Test("two Sec-WebSocket-Version headers get 426")
    func twoVersions() {
        let head = upgradeRequest(adding: [("Sec-WebSocket-Version", "13")])
        expectReject(evaluate(head), .upgradeRequired, headers: [("Sec-WebSocket-Version", "13")])
    }

    @Test(
        "allowed origins: configured, or the request's own (normalized)",
        arguments: [
            ("server.example.com", "http://server.example.com"), ("server.example.com", "https://server.example.com"),
            ("server.example.com", "HTTP://Server.Example.COM:80"), ("server.example.com", "https://server.example.com:443"),
            ("localhost:8080", "http://localhost:8080"), ("[::1]:8080", "http://[::1]:8080"),
            ("server.example.com", "https://app.example.com"), ("server.example.com", "https://APP.example.com:443"),
            ("server.example.com", "http://localhost:3000"), ("server.example.com", "http://localhost:3000/"),
            // The server itself under its loopback aliases: the page came from localhost, the
            // socket goes to 127.0.0.1 (or the other way round), same scheme and port.
            ("127.0.0.1:8080", "http://localhost:8080"), ("localhost:8080", "http://127.0.0.1:8080"),
            ("localhost:8080", "http://[::1]:8080"), ("[::1]:8080", "HTTP://LocalHost:8080/"), ("127.0.0.1", "http://[::1]:80"),
        ]
    )
    func allowedOrigin(host: String, origin: String) {
        expectAccept(evaluate(upgradeRequest(replacing: ["Host": host], adding: [("Origin", origin)])))
    }

    @Test(
        "other origins get 403",
        arguments: [
            ("server.example.com", "http://evil.example.com"), ("server.example.com", "http://server.example.com:8080"),
            ("localhost:8080", "http://localhost:8081"), ("localhost:8080", "http://localhost"),
            ("server.example.com", "http://app.example.com"), ("server.example.com", "null"),
            ("server.example.com", "https://app.example.com.evil.com"), ("server.example.com", "https://app.example.com/x"),
            ("server.example.com", "file://"), ("server.example.com", ""), ("", "http://server.example.com"),
            ("127.0.0.1:8080", "http://localhost:8081"), ("127.0.0.1:8080", "http://localhost.evil.com:8080"),
            ("127.0.0.1", "http://localhost:8080"), ("server.example.com", "http://127.0.0.1"), ("127.0.0.2:8080", "http://localhost:8080"),
        ]
    )
    func forbiddenOrigin(host: String, origin: String) {
        expectReject(evaluate(upgradeRequest(replacing: ["Host": host], adding: [("Origin", origin)])), .forbidden)
    }

    @Test("null is allowed only when configured literally; two Origin headers get 403")
    func nullAndDuplicateOrigin() {
        let nullAllowed = WebSocketHandshakeConfiguration(allowedOrigins: ["null"])
        expectAccept(evaluate(upgradeRequest(adding: [("Origin", "null")]), nullAllowed))
        let twice = upgradeRequest(adding: [("Origin", "http://server.example.com"), ("Origin", "http://server.example.com")])
        expectReject(evaluate(twice), .forbidden)
    }

    @Test("the first subprotocol the client offers that we speak is chosen")
    func subprotocols() {
        let configuration = WebSocketHandshakeConfiguration(subprotocols: ["a", "b", "faros.v1"])
        expectAccept(evaluate(upgradeRequest(adding: [("Sec-WebSocket-Protocol", "x, b, a")]), configuration), subprotocol: "b")
        expectAccept(
            evaluate(upgradeRequest(adding: [("Sec-WebSocket-Protocol", "x"), ("Sec-WebSocket-Protocol", "faros.v1, a")]), configuration),
            subprotocol: "faros.v1"
        )
        // Unknown or no offers: accepted without a subprotocol. Names are case-sensitive.
        expectAccept(evaluate(upgradeRequest(adding: [("Sec-WebSocket-Protocol", "x, FAROS.V1")]), configuration))
        expectAccept(evaluate(upgradeRequest(), configuration))
    }

    @Test("permessage-deflate is negotiated from every Sec-WebSocket-Extensions header, only when configured")
    func deflate() {
        let head = upgradeRequest(adding: [
            ("Sec-WebSocket-Extensions", "x-unknown"),
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
        ])
        let configured = WebSocketHandshakeConfiguration(deflate: .default)
        guard case .accept(let headers, _, let parameters) = evaluate(head, configured) else {
            Issue.record("expected accept")
            return
        }
        #expect(parameters != nil)
        #expect(headers["Sec-WebSocket-Extensions"].count == 1)
        #expect(headers["Sec-WebSocket-Extensions"].first?.hasPrefix("permessage-deflate") == true)

        // Not configured: never negotiated, and the offer does not refuse the upgrade.
        guard case .accept(let plainHeaders, _, let none) = evaluate(head) else {
            Issue.record("expected accept")
            return
        }
        #expect(none == nil)
        #expect(plainHeaders["Sec-WebSocket-Extensions"].isEmpty)

        // Configured, but only unknown extensions offered: accepted without compression.
        let unknownOnly = upgradeRequest(adding: [("Sec-WebSocket-Extensions", "x-webkit-deflate-frame")])
        guard case .accept(let unknownHeaders, _, let unknown) = evaluate(unknownOnly, configured) else {
            Issue.record("expected accept")
            return
        }
        #expect(unknown == nil)
        #expect(unknownHeaders["Sec-WebSocket-Extensions"].isEmpty)
    }

    @Test(
        "origin normalization",
        arguments: [
            ("http://Example.com", "http://example.com"), ("http://example.com:80", "http://example.com"),
            ("https://example.com:443", "https://example.com"), ("https://example.com:80", "https://example.com:80"),
            ("http://example.com:0080", "http://example.com"), ("ws://example.com:80", "ws://example.com"),
            ("wss://example.com:443/", "wss://example.com"), ("http://[::1]:80", "http://[::1]"),
            ("http://example.com:", "http://example.com"), ("  http://a.b  ", "http://a.b"),
        ]
    )
    func normalization(input: String, expected: String) {
        #expect(WebSocketHandshake.normalizedOrigin(input) == expected)
    }

    @Test(
        "strings that are not origins do not normalize",
        arguments: ["null", "", "example.com", "http:/example.com", "http://", "http://a.b/c", "http://a.b:99999",
                    "http://a.b:8x", "http://user@a.b", "1http://a.b", "http://[::1"]
    )
    func notOrigins(input: String) {
        #expect(WebSocketHandshake.normalizedOrigin(input) == nil)
    }
}
