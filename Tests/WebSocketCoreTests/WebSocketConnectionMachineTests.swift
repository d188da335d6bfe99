import NIOCore
import Testing

@testable import WebSocketCore

typealias Action = WebSocketConnectionMachine.Action

/// Feeds `bytes` to a fresh machine in reads shaped by `feeding` and collects every action.
func runMachine(
    _ bytes: [UInt8],
    feeding: ByteFeeding = .whole,
    maxFrameSize: Int = 1 << 20,
    maxMessageSize: Int = 1 << 20,
    deflate: PerMessageDeflate? = nil
) -> [Action] {
    var machine = WebSocketConnectionMachine(
        configuration: .init(maxFrameSize: maxFrameSize, maxMessageSize: maxMessageSize),
        deflate: deflate
    )
    return runMachine(&machine, bytes, feeding: feeding)
}

func runMachine(_ machine: inout WebSocketConnectionMachine, _ bytes: [UInt8], feeding: ByteFeeding = .whole) -> [Action] {
    var cumulation = ByteBuffer()
    var actions: [Action] = []
    for chunk in feeding.chunks(bytes) {
        cumulation.writeBytes(chunk)
        while let action = machine.next(&cumulation) {
            actions.append(action)
        }
        cumulation.discardReadBytes()
    }
    return actions
}

func text(_ string: String) -> Action {
    .message(WebSocketMessage(kind: .text, data: ByteBuffer(string: string)))
}

func binary(_ bytes: [UInt8]) -> Action {
    .message(WebSocketMessage(kind: .binary, data: ByteBuffer(bytes: bytes)))
}

/// The close code of the last action if it is a failure.
func failure(_ actions: [Action]) -> WebSocketCloseCode? {
    if case .fail(let code, _) = actions.last { return code }
    return nil
}

@Suite("WebSocketConnectionMachine")
struct WebSocketConnectionMachineTests {
    static let helloFragments = clientFrame(fin: false, opcode: 0x1, text: "Hel") + clientFrame(opcode: 0x0, text: "lo")

    @Test("RFC 6455 §5.7 masked \"Hello\" and fragmented \"Hel\"+\"lo\"", arguments: ByteFeeding.allCases)
    func hello(feeding: ByteFeeding) {
        let input = WebSocketFrameParserTests.maskedHello + Self.helloFragments + WebSocketFrameParserTests.maskedPong
        #expect(runMachine(input, feeding: feeding) == [text("Hello"), text("Hello"), .pong(buffer("Hello"))])
    }

    @Test("control frames interleaved in a fragmented message", arguments: ByteFeeding.allCases)
    func interleaved(feeding: ByteFeeding) {
        let input = clientFrame(fin: false, opcode: 0x2, payload: [1, 2])
            + clientFrame(opcode: 0x9, payload: Array("ping".utf8))
            + clientFrame(fin: false, opcode: 0x0, payload: [])
            + clientFrame(opcode: 0xA, payload: [])
            + clientFrame(fin: false, opcode: 0x0, payload: [3])
            + clientFrame(opcode: 0x0, payload: [4, 5])
        #expect(runMachine(input, feeding: feeding) == [.ping(buffer("ping")), .pong(buffer([])), binary([1, 2, 3, 4, 5])])
    }

    @Test("a message of many fragments, split inside multibyte characters", arguments: [ByteFeeding.whole, .chunksOf3])
    func manyFragments(feeding: ByteFeeding) {
        let textBytes = Array(String(repeating: "añ€😀", count: 100).utf8)
        var input: [UInt8] = []
        for (index, byte) in textBytes.enumerated() {
            let opcode: UInt8 = index == 0 ? 0x1 : 0x0
            input += clientFrame(fin: index == textBytes.count - 1, opcode: opcode, payload: [byte], key: [UInt8(index & 0xFF), 1, 2, 3])
        }
        #expect(runMachine(input, feeding: feeding) == [text(String(repeating: "añ€😀", count: 100))])
    }

    @Test("empty text and binary messages, and a message of empty fragments")
    func emptyMessages() {
        let input = clientFrame(opcode: 0x1, payload: []) + clientFrame(opcode: 0x2, payload: [])
            + clientFrame(fin: false, opcode: 0x1, payload: []) + clientFrame(opcode: 0x0, payload: [])
        #expect(runMachine(input) == [text(""), binary([]), text("")])
    }

    @Test("an unfragmented message is the input's slice, not a copy")
    func zeroCopy() throws {
        var machine = WebSocketConnectionMachine(configuration: .init(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20), deflate: nil)
        let payload = [UInt8](repeating: 0x61, count: 300)
        var input = buffer(clientFrame(opcode: 0x1, payload: payload))
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        guard case .message(let message) = machine.next(&input) else {
            Issue.record("expected a message")
            return
        }
        #expect(message.data.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == base + 8)
        #expect(message.data == buffer(payload))
    }

    // MARK: RSV bits and fragmentation order

    @Test("RSV1 without permessage-deflate fails with 1002", arguments: [0x1, 0x2] as [UInt8])
    func rsv1WithoutDeflate(opcode: UInt8) {
        let frame = clientFrame(rsv1: true, opcode: opcode, payload: [0x41])
        // Judged on the header, before the payload.
        #expect(failure(runMachine(Array(frame.prefix(6)), feeding: .byteByByte)) == .protocolError)
        #expect(failure(runMachine(frame)) == .protocolError)
    }

    @Test("RSV2 and RSV3 always fail with 1002", arguments: [0x0, 0x1, 0x2, 0x8, 0x9, 0xA] as [UInt8])
    func rsv2rsv3(opcode: UInt8) {
        let prefix = opcode == 0 ? clientFrame(fin: false, opcode: 0x1, payload: []) : []
        for (rsv2, rsv3) in [(true, false), (false, true), (true, true)] {
            let input = prefix + clientFrame(rsv2: rsv2, rsv3: rsv3, opcode: opcode, payload: [])
            #expect(failure(runMachine(input, deflate: makeDeflate())) == .protocolError)
        }
    }

    @Test("RSV1 on a control frame or a continuation fails with 1002 even with deflate")
    func rsv1Misplaced() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            #expect(failure(runMachine(clientFrame(rsv1: true, opcode: opcode, payload: []), deflate: makeDeflate())) == .protocolError)
        }
        let continuation = clientFrame(fin: false, opcode: 0x2, payload: [1]) + clientFrame(rsv1: true, opcode: 0x0, payload: [2])
        #expect(failure(runMachine(continuation, deflate: makeDeflate())) == .protocolError)
    }

    @Test("a continuation without a message in progress fails with 1002", arguments: [true, false])
    func strayContinuation(fin: Bool) {
        #expect(failure(runMachine(clientFrame(fin: fin, opcode: 0x0, payload: [1]))) == .protocolError)
        // Also right after a complete message.
        let afterMessage = WebSocketFrameParserTests.maskedHello + clientFrame(fin: fin, opcode: 0x0, payload: [1])
        #expect(runMachine(afterMessage).count == 2)
        #expect(failure(runMachine(afterMessage)) == .protocolError)
    }

    @Test("a new data message inside a fragmented one fails with 1002", arguments: [0x1, 0x2] as [UInt8])
    func nestedMessage(opcode: UInt8) {
        let input = clientFrame(fin: false, opcode: 0x1, text: "a") + clientFrame(opcode: opcode, payload: [0x62])
        #expect(failure(runMachine(input)) == .protocolError)
    }

    @Test("parser errors become failures with their code")
    func parserErrors() {
        #expect(failure(runMachine(WebSocketFrameParserTests.unmaskedHello)) == .protocolError)
        #expect(failure(runMachine(clientFrame(opcode: 0x3, payload: []))) == .protocolError)
        #expect(failure(runMachine(clientFrame(fin: false, opcode: 0x9, payload: []))) == .protocolError)
        #expect(failure(runMachine(clientFrame(opcode: 0x2, payload: [UInt8](repeating: 0, count: 200)), maxFrameSize: 199)) == .messageTooBig)
    }

    // MARK: UTF-8

    @Test("Autobahn's UTF-8 cases as one text frame, and as two fragments split at every position")
    func autobahnUTF8() {
        for testCase in autobahnUTF8Cases {
            let bytes = hexBytes(testCase.hex)
            let expected: [Action] = testCase.valid
                ? [.message(WebSocketMessage(kind: .text, data: buffer(bytes)))]
                : [.fail(.invalidPayloadData, reason: "")]
            let single = runMachine(clientFrame(opcode: 0x1, payload: bytes))
            #expect(Self.sameOutcome(single, expected), "\(testCase.hex)")
            for split in 0...bytes.count {
                let input = clientFrame(fin: false, opcode: 0x1, payload: Array(bytes[..<split]))
                    + clientFrame(opcode: 0x0, payload: Array(bytes[split...]))
                #expect(Self.sameOutcome(runMachine(input), expected), "\(testCase.hex) split at \(split)")
            }
        }
    }

    /// Equal, except that failure reasons are not compared.
    static func sameOutcome(_ actual: [Action], _ expected: [Action]) -> Bool {
        guard actual.count == expected.count else { return false }
        return zip(actual, expected).allSatisfy { pair in
            if case .fail(let a, _) = pair.0, case .fail(let b, _) = pair.1 { return a == b }
            return pair.0 == pair.1
        }
    }

    @Test("invalid UTF-8 in a first fragment fails before the message ends (Autobahn 6.4.1/6.4.2)")
    func failFastFragment() {
        var machine = WebSocketConnectionMachine(configuration: .init(maxFrameSize: 1000, maxMessageSize: 1000), deflate: nil)
        let first = clientFrame(fin: false, opcode: 0x1, payload: Array("κόσμε".utf8) + [0xF4, 0x90, 0x80, 0x80])
        #expect(failure(runMachine(&machine, first)) == .invalidPayloadData)
        // Nothing more is read after a failure.
        #expect(runMachine(&machine, clientFrame(opcode: 0x0, text: "edited")) == [])
    }

    @Test("invalid UTF-8 fails while its frame is still arriving (Autobahn 6.4.3/6.4.4)", arguments: ByteFeeding.allCases)
    func failFastInsideFrame(feeding: ByteFeeding) {
        let payload = Array("κόσμε".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("edited".utf8)
        let frame = clientFrame(opcode: 0x1, payload: payload)
        let valid = Array("κόσμε".utf8).count
        // Header (6 bytes) plus the valid text and F4 90: the message is not complete, yet it fails.
        let partial = Array(frame.prefix(6 + valid + 2))
        #expect(failure(runMachine(partial, feeding: feeding)) == .invalidPayloadData)
        // F4 alone is still a possible prefix: no verdict yet.
        #expect(runMachine(Array(frame.prefix(6 + valid + 1)), feeding: feeding) == [])
    }

    @Test("a text message ending inside a sequence fails with 1007, in one frame or the last fragment")
    func truncatedText() {
        #expect(failure(runMachine(clientFrame(opcode: 0x1, payload: [0x41, 0xE2, 0x82]))) == .invalidPayloadData)
        let fragments = clientFrame(fin: false, opcode: 0x1, payload: [0xE2]) + clientFrame(opcode: 0x0, payload: [0x82])
        #expect(failure(runMachine(fragments)) == .invalidPayloadData)
        // A sequence split across fragments is fine, and binary messages are never validated.
        let split = clientFrame(fin: false, opcode: 0x1, payload: [0xE2]) + clientFrame(opcode: 0x0, payload: [0x82, 0xAC])
        #expect(runMachine(split) == [text("€")])
        #expect(runMachine(clientFrame(opcode: 0x2, payload: [0xFF, 0xE2])) == [binary([0xFF, 0xE2])])
    }

    // MARK: Limits

    @Test("an unfragmented message over maxMessageSize fails with 1009 on its header")
    func messageTooBig() {
        let frame = clientFrame(opcode: 0x1, payload: [UInt8](repeating: 0x61, count: 101))
        #expect(failure(runMachine(Array(frame.prefix(6)), maxMessageSize: 100)) == .messageTooBig)
        let atLimit = clientFrame(opcode: 0x1, payload: [UInt8](repeating: 0x61, count: 100))
        #expect(runMachine(atLimit, maxMessageSize: 100).count == 1)
        #expect(failure(runMachine(atLimit, maxMessageSize: 100)) == nil)
    }

    @Test("fragments adding up to more than maxMessageSize fail with 1009 on the crossing header")
    func fragmentedTooBig() {
        let fragment = [UInt8](repeating: 0x61, count: 40)
        let input = clientFrame(fin: false, opcode: 0x1, payload: fragment) + clientFrame(fin: false, opcode: 0x0, payload: fragment)
            + clientFrame(opcode: 0x0, payload: [UInt8](repeating: 0x61, count: 21))
        // The third header is enough to know: its payload need not arrive.
        let headerOnly = Array(input.prefix(2 * (6 + 40) + 6))
        #expect(failure(runMachine(headerOnly, feeding: .byteByByte, maxMessageSize: 100)) == .messageTooBig)
        let exact = clientFrame(fin: false, opcode: 0x1, payload: fragment) + clientFrame(fin: false, opcode: 0x0, payload: fragment)
            + clientFrame(opcode: 0x0, payload: [UInt8](repeating: 0x61, count: 20))
        #expect(runMachine(exact, maxMessageSize: 100) == [text(String(repeating: "a", count: 100))])
    }

    @Test("control frames do not count towards the message size")
    func controlNotCounted() {
        let input = clientFrame(fin: false, opcode: 0x2, payload: [UInt8](repeating: 1, count: 125))
            + clientFrame(opcode: 0x9, payload: [UInt8](repeating: 2, count: 125))
            + clientFrame(opcode: 0x0, payload: [])
        #expect(runMachine(input, maxFrameSize: 125, maxMessageSize: 125).count == 2)
    }

    // MARK: Close

    @Test("a close without payload is a valid close with no code")
    func emptyClose() {
        #expect(runMachine(clientFrame(opcode: 0x8, payload: [])) == [.close(reply: nil, reason: "")])
    }

    @Test(
        "a close with a valid code is echoed",
        arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16]
    )
    func validClose(code: UInt16) {
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("bye ✓".utf8)
        #expect(runMachine(clientFrame(opcode: 0x8, payload: payload)) == [.close(reply: WebSocketCloseCode(rawValue: code), reason: "bye ✓")])
    }

    @Test(
        "a close with an invalid code fails with 1002",
        arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16]
    )
    func invalidCloseCode(code: UInt16) {
        #expect(failure(runMachine(clientFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)]))) == .protocolError)
    }

    @Test("a 1-byte close fails with 1002; a reason that is not UTF-8 fails with 1007")
    func badClosePayload() {
        #expect(failure(runMachine(clientFrame(opcode: 0x8, payload: [0x03]))) == .protocolError)
        #expect(failure(runMachine(clientFrame(opcode: 0x8, payload: [0x03, 0xE8, 0xCE, 0xBA, 0xFF]))) == .invalidPayloadData)
        #expect(failure(runMachine(clientFrame(opcode: 0x8, payload: [0x03, 0xE8, 0xCE]))) == .invalidPayloadData)
    }

    @Test("after the peer's close, further input is ignored", arguments: ByteFeeding.allCases)
    func inputAfterClose(feeding: ByteFeeding) {
        let input = clientFrame(opcode: 0x8, payload: [0x03, 0xE8]) + WebSocketFrameParserTests.maskedHello
            + clientFrame(opcode: 0x3, payload: [])
        #expect(runMachine(input, feeding: feeding) == [.close(reply: .normalClosure, reason: "")])
    }

    @Test("a close in the middle of a fragmented message ends it")
    func closeMidMessage() {
        let input = clientFrame(fin: false, opcode: 0x1, text: "half") + clientFrame(opcode: 0x8, payload: [])
        #expect(runMachine(input) == [.close(reply: nil, reason: "")])
    }

    /// Whether our close is out is the lifecycle machine's business (WebSocketLifecycleMachineTests):
    /// this one parses the peer's answer the same either way.
    @Test("server-initiated close: data still in flight, then the peer's close")
    func serverInitiatedClose() {
        var machine = WebSocketConnectionMachine(configuration: .init(maxFrameSize: 1000, maxMessageSize: 1000), deflate: nil)
        // Data still in flight from the peer is still delivered; the handler may drop it.
        let input = WebSocketFrameParserTests.maskedHello + clientFrame(opcode: 0x8, payload: [0x03, 0xE9])
        #expect(runMachine(&machine, input) == [text("Hello"), .close(reply: .goingAway, reason: "")])
    }

    @Test("after a failure next returns nil and discards input")
    func terminalAfterFailure() {
        var machine = WebSocketConnectionMachine(configuration: .init(maxFrameSize: 1000, maxMessageSize: 1000), deflate: nil)
        #expect(failure(runMachine(&machine, clientFrame(rsv2: true, opcode: 0x1, payload: []))) == .protocolError)
        var more = buffer(WebSocketFrameParserTests.maskedHello)
        #expect(machine.next(&more) == nil)
        #expect(more.readableBytes == 0)
    }
}
