import NIOCore
import Testing

/// Every close has a deadline: a peer that ends the conversation (or breaks the protocol) and
/// then stops reading loses its TCP connection within the close timeout, even though the
/// server's answers to it are still queued and can never be written.
@Suite(.timeLimit(.minutes(1)))
struct CloseDeadlineEndToEndTests {
    /// Far above the close timeout, so only a missing deadline makes the wait fail.
    static let bound = TimeAmount.seconds(15)

    enum Ending: CaseIterable { case peerClose, protocolError }

    @Test(arguments: Ending.allCases)
    func aPeerThatStopsReadingLosesItsSocketWithinTheCloseTimeout(ending: Ending) async throws {
        try await TestServer.with({
            $0.timeouts.close = .milliseconds(500)
            // Room for the whole answer in the server's queue: this is no slow-consumer cut-off.
            $0.rpc.outboundBufferBytes = 64 << 20
        }) { server, _ in
            let client = try await RawTCPClient.connect(port: server.port)
            do {
                try await client.upgrade(path: "/rpc")
                // One answer far larger than both socket buffers; once its first bytes arrive, the
                // whole frame is queued on the server, and this client reads no more.
                let call = #"{"jsonrpc":"2.0","id":1,"method":"test.blob","params":{"bytes":8000000}}"#
                try await client.send(RawTCPClient.frame(0x81, Array(call.utf8)))
                _ = try await client.read(atLeast: 1)

                switch ending {
                case .peerClose:
                    try await client.send(RawTCPClient.frame(0x88, [0x03, 0xE8]))
                case .protocolError:
                    // Opcode 0x3 is reserved: the server fails the connection with 1002.
                    try await client.send(RawTCPClient.frame(0x83, []))
                }
                #expect(try await client.waitForClose(within: Self.bound))
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        }
    }
}
