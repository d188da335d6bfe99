import Testing

@testable import WebSocketCore

@Suite("WebSocketOpcode and WebSocketCloseCode")
struct WebSocketOpcodeAndCloseCodeTests {
    @Test("only the six RFC 6455 opcodes exist")
    func opcodes() {
        let defined: [UInt8: WebSocketOpcode] = [
            0: .continuation, 1: .text, 2: .binary, 8: .close, 9: .ping, 10: .pong,
        ]
        for raw in UInt8(0)...255 {
            #expect(WebSocketOpcode(rawValue: raw) == defined[raw], "opcode \(raw)")
        }
        #expect([WebSocketOpcode.close, .ping, .pong].allSatisfy { $0.isControl })
        #expect(![WebSocketOpcode.continuation, .text, .binary].contains { $0.isControl })
    }

    @Test("the named close codes have their registry values")
    func closeCodeValues() {
        let named: [(WebSocketCloseCode, UInt16)] = [
            (.normalClosure, 1000), (.goingAway, 1001), (.protocolError, 1002), (.unsupportedData, 1003),
            (.invalidPayloadData, 1007), (.policyViolation, 1008), (.messageTooBig, 1009),
            (.mandatoryExtension, 1010), (.internalError, 1011), (.tryAgainLater, 1013),
        ]
        for (code, value) in named {
            #expect(code.rawValue == value)
            #expect(code.isValidOnWire)
        }
    }

    @Test("which codes may be sent on the wire (RFC 6455 §7.4, IANA registry)")
    func validOnWire() {
        for raw in UInt16(0)...UInt16.max {
            let expected: Bool
            switch raw {
            case 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014: expected = true
            case 3000..<5000: expected = true
            default: expected = false
            }
            if WebSocketCloseCode(rawValue: raw).isValidOnWire != expected {
                Issue.record("close code \(raw) should be \(expected ? "valid" : "invalid")")
            }
        }
        for raw: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            #expect(!WebSocketCloseCode(rawValue: raw).isValidOnWire)
        }
    }
}
