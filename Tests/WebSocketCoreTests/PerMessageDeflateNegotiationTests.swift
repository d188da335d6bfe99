import Testing

@testable import WebSocketCore

/// A policy that asks nothing of the client and caps nothing, so responses show only what was offered.
private let plain = PerMessageDeflateConfiguration(
    requestServerNoContextTakeover: false,
    requestClientNoContextTakeover: false,
    deflateWindowBits: 15,
    clientMaxWindowBits: 15
)

struct AcceptedOffer: Sendable, CustomTestStringConvertible {
    let headers: [String]
    let configuration: PerMessageDeflateConfiguration
    let response: String
    let parameters: PerMessageDeflateParameters
    var testDescription: String { self.headers.debugDescription }

    init(
        _ headers: [String],
        _ configuration: PerMessageDeflateConfiguration = plain,
        response: String,
        _ parameters: PerMessageDeflateParameters = PerMessageDeflateParameters()
    ) {
        self.headers = headers
        self.configuration = configuration
        self.response = response
        self.parameters = parameters
    }
}

@Suite("permessage-deflate negotiation")
struct PerMessageDeflateNegotiationTests {
    static let accepted: [AcceptedOffer] = [
        AcceptedOffer(["permessage-deflate"], response: "permessage-deflate"),
        // What the configuration asks for by default, even though the client did not offer it.
        AcceptedOffer(
            ["permessage-deflate"],
            .default,
            response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true)
        ),
        // Chrome's offer.
        AcceptedOffer(
            ["permessage-deflate; client_max_window_bits"],
            .default,
            response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12",
            PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 12)
        ),
        AcceptedOffer(
            ["permessage-deflate; client_max_window_bits"],
            response: "permessage-deflate; client_max_window_bits=15"
        ),
        AcceptedOffer(
            ["permessage-deflate; client_max_window_bits=10"],
            .default,
            response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10",
            PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true, clientMaxWindowBits: 10)
        ),
        AcceptedOffer(
            ["permessage-deflate; client_max_window_bits=14"],
            PerMessageDeflateConfiguration(requestServerNoContextTakeover: false, requestClientNoContextTakeover: false),
            response: "permessage-deflate; client_max_window_bits=12",
            PerMessageDeflateParameters(clientMaxWindowBits: 12)
        ),
        AcceptedOffer(
            ["permessage-deflate; server_no_context_takeover"],
            response: "permessage-deflate; server_no_context_takeover",
            PerMessageDeflateParameters(serverNoContextTakeover: true)
        ),
        AcceptedOffer(
            ["permessage-deflate; client_no_context_takeover"],
            response: "permessage-deflate; client_no_context_takeover",
            PerMessageDeflateParameters(clientNoContextTakeover: true)
        ),
        // Echoed as offered, whatever our cap: the cap only narrows the window we deflate with.
        AcceptedOffer(
            ["permessage-deflate; server_max_window_bits=15"],
            .default,
            response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15",
            PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15)
        ),
        AcceptedOffer(
            ["permessage-deflate; server_max_window_bits=8"],
            response: "permessage-deflate; server_max_window_bits=8",
            PerMessageDeflateParameters(serverMaxWindowBits: 8)
        ),
        AcceptedOffer(
            ["permessage-deflate; server_max_window_bits=\"10\""],
            response: "permessage-deflate; server_max_window_bits=10",
            PerMessageDeflateParameters(serverMaxWindowBits: 10)
        ),
        AcceptedOffer(
            ["permessage-deflate; client_max_window_bits=\"9\""],
            response: "permessage-deflate; client_max_window_bits=9",
            PerMessageDeflateParameters(clientMaxWindowBits: 9)
        ),
        // A quoted-string may escape any character; "1\0" is "10".
        AcceptedOffer(
            [#"permessage-deflate; server_max_window_bits="1\0""#],
            response: "permessage-deflate; server_max_window_bits=10",
            PerMessageDeflateParameters(serverMaxWindowBits: 10)
        ),
        // Everything at once, in an unusual order and spacing.
        AcceptedOffer(
            ["permessage-deflate;client_max_window_bits=8 ;\tserver_max_window_bits = 9; client_no_context_takeover;server_no_context_takeover"],
            response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8",
            PerMessageDeflateParameters(
                serverNoContextTakeover: true,
                clientNoContextTakeover: true,
                serverMaxWindowBits: 9,
                clientMaxWindowBits: 8
            )
        ),
        // Names are case-insensitive tokens.
        AcceptedOffer(
            ["PerMessage-Deflate; Client_Max_Window_Bits"],
            response: "permessage-deflate; client_max_window_bits=15"
        ),
        // The first acceptable offer wins: here, after a declined one in the same header...
        AcceptedOffer(
            ["permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=9"],
            response: "permessage-deflate; server_max_window_bits=9",
            PerMessageDeflateParameters(serverMaxWindowBits: 9)
        ),
        // ...after another extension and in a later header line...
        AcceptedOffer(
            ["x-webkit-deflate-frame", "foo; bar=1, permessage-deflate; client_no_context_takeover"],
            response: "permessage-deflate; client_no_context_takeover",
            PerMessageDeflateParameters(clientNoContextTakeover: true)
        ),
        // ...and before other acceptable ones (Autobahn 13.7's three offers).
        AcceptedOffer(
            [
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits, "
                    + "permessage-deflate; server_no_context_takeover; client_max_window_bits, permessage-deflate; client_max_window_bits"
            ],
            response: "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=15",
            PerMessageDeflateParameters(serverNoContextTakeover: true, serverMaxWindowBits: 9)
        ),
        // Empty list elements are allowed and skipped.
        AcceptedOffer([" , ,permessage-deflate ,"], response: "permessage-deflate"),
        // A comma inside a quoted-string does not split the list.
        AcceptedOffer(
            [#"foo; bar="a,b", permessage-deflate"#],
            response: "permessage-deflate"
        ),
    ]

    @Test(arguments: accepted)
    func accepts(offer: AcceptedOffer) throws {
        let result = try #require(
            PerMessageDeflateNegotiation.negotiate(offerHeaders: offer.headers, configuration: offer.configuration)
        )
        #expect(result.response == offer.response)
        #expect(result.parameters == offer.parameters)
    }

    static let declined: [String] = [
        "",
        " ",
        ",",
        ";;;",
        "=7",
        "permessage-deflate;",
        "permessage-deflate; ",
        "permessage-deflate;;",
        "permessage-deflate; ; client_max_window_bits",
        "permessage-deflate x",
        "permessage-deflate; client_max_window_bits x",
        "permessage-deflate=1",
        "permessage-deflat",
        "permessage-deflate-x",
        "x-webkit-deflate-frame",
        "deflate-frame; no_context_takeover",
        "permessage-deflaté",
        "\"permessage-deflate\"",
        // Unknown parameters.
        "permessage-deflate; foo",
        "permessage-deflate; foo=1",
        "permessage-deflate; client_max_window_bits; x",
        "permessage-deflate; no_context_takeover",
        // Duplicate parameters, also differing only in case or value.
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits=10; Client_Max_Window_Bits=11",
        // Values where none is allowed.
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        "permessage-deflate; client_no_context_takeover=\"\"",
        "permessage-deflate; server_no_context_takeover=",
        // Window sizes out of range or malformed.
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=0",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=9.0",
        "permessage-deflate; server_max_window_bits=1 0",
        "permessage-deflate; server_max_window_bits=99999999999999999999999",
        "permessage-deflate; server_max_window_bits=\"\"",
        "permessage-deflate; server_max_window_bits=\"16\"",
        "permessage-deflate; server_max_window_bits=\" 9\"",
        "permessage-deflate; server_max_window_bits=\"10",
        "permessage-deflate; server_max_window_bits=10\"",
        "permessage-deflate; server_max_window_bits=\"10\"x",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=",
        "permessage-deflate; client_max_window_bits=\"\"",
        "permessage-deflate; client_max_window_bits=\"\\",
        "permessage-deflate; client_max_window_bits=fifteen",
    ]

    @Test(arguments: declined)
    func declines(header: String) {
        #expect(PerMessageDeflateNegotiation.negotiate(offerHeaders: [header], configuration: plain) == nil)
        #expect(PerMessageDeflateNegotiation.negotiate(offerHeaders: [header], configuration: .default) == nil)
    }

    /// A declined offer never spoils a valid one that follows, in the next header line or
    /// after a comma (unless it opened a quoted-string it never closed, which swallows the rest).
    @Test(arguments: declined)
    func fallsBackAfterADeclinedOffer(header: String) throws {
        let nextLine = try #require(
            PerMessageDeflateNegotiation.negotiate(offerHeaders: [header, "permessage-deflate"], configuration: plain)
        )
        #expect(nextLine.response == "permessage-deflate")
        let unterminatedQuote = header.filter { $0 == "\"" }.count % 2 == 1
        let sameLine = PerMessageDeflateNegotiation.negotiate(
            offerHeaders: [header + ", permessage-deflate; server_max_window_bits=11"],
            configuration: plain
        )
        if unterminatedQuote {
            #expect(sameLine == nil)
        } else {
            #expect(sameLine?.response == "permessage-deflate; server_max_window_bits=11")
        }
    }

    @Test func declinesWhenNothingIsOffered() {
        #expect(PerMessageDeflateNegotiation.negotiate(offerHeaders: [], configuration: .default) == nil)
    }

    /// Random headers built from the characters that matter never crash the parser, and
    /// whatever is accepted is in range.
    @Test func survivesRandomHeaders() {
        let alphabet: [String] = [
            "p", "e", "-", ";", ",", "=", "\"", "\\", " ", "\t", "x", "0", "1", "8", "9", "15", "_", "é", "\u{0}",
            "permessage-deflate", "server_max_window_bits", "client_max_window_bits",
            "server_no_context_takeover", "client_no_context_takeover",
        ]
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let length = Int(generator.next() % 12)
            var header = ""
            for _ in 0..<length {
                let piece = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                header += piece
            }
            guard let result = PerMessageDeflateNegotiation.negotiate(offerHeaders: [header], configuration: .default) else {
                continue
            }
            #expect(result.response.hasPrefix("permessage-deflate"))
            #expect((8...15).contains(result.parameters.serverMaxWindowBits))
            #expect((8...15).contains(result.parameters.clientMaxWindowBits))
        }
    }

    /// The negotiated parameters drive a working transform on both ends.
    @Test func negotiatedParametersRoundTrip() throws {
        let offer = "permessage-deflate; server_max_window_bits=8; client_max_window_bits"
        let result = try #require(PerMessageDeflateNegotiation.negotiate(offerHeaders: [offer], configuration: .default))
        let server = PerMessageDeflate(parameters: result.parameters, configuration: .default)
        #expect(server.deflateWindowBits == 9)
        #expect(server.inflateWindowBits == 12)
        let message = jsonLikeBytes(10_000, seed: 8)
        let payload = try server.deflate(.init(bytes: message), allocator: .init())
        // The client inflates with the 8-bit window it asked for.
        let client = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(clientNoContextTakeover: true, clientMaxWindowBits: 8),
            configuration: .default
        )
        #expect(try inflateMessage([payload.bytes], with: client) == message)
    }
}
