import HTTPEdge
import Testing

@Suite struct TrustedProxiesTests {
    static func proxies(_ list: String) throws -> TrustedProxies {
        try TrustedProxies.parse(list: list).get()
    }

    @Test func withoutProxiesThePeerIsTheClient() throws {
        #expect(TrustedProxies().clientAddress(peer: "192.0.2.9", forwardedFor: ["203.0.113.5"]) == "192.0.2.9")
    }

    @Test func anUntrustedPeerCannotSpoofItsAddress() throws {
        let proxies = try Self.proxies("10.0.0.0/8")
        #expect(proxies.clientAddress(peer: "192.0.2.9", forwardedFor: ["203.0.113.5"]) == "192.0.2.9")
    }

    @Test func theRightmostUntrustedHopIsTheClient() throws {
        let proxies = try Self.proxies("10.0.0.0/8, 2001:db8::/32")
        // The client wrote "1.2.3.4" itself; the proxy appended what it saw.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["1.2.3.4, 203.0.113.5"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["203.0.113.5", "10.9.9.9"]) == "203.0.113.5")
        #expect(proxies.clientAddress(peer: "2001:db8::1", forwardedFor: ["2001:DB9::7"]) == "2001:db9::7")
        // Only proxies in the chain: the leftmost one is as far as anyone can tell.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["10.0.0.2"]) == "10.0.0.2")
        // Garbage in the header stops the walk at the last address that was believable.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["not-an-ip"]) == "10.1.2.3")
    }

    @Test func ipv4BlocksMatchMappedPeers() throws {
        let proxies = try Self.proxies("127.0.0.1")
        #expect(proxies.trusts("::ffff:127.0.0.1"))
        #expect(!proxies.trusts("::1"))
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/+8", "10.0.0.0/"])
    func badBlocksAreNamed(entry: String) {
        guard case .failure(let error) = TrustedProxies.parse(list: "127.0.0.1, \(entry)") else {
            Issue.record("accepted \(entry)")
            return
        }
        #expect(error.text == entry)
    }

    @Test func prefixesMaskPartialBytes() throws {
        let proxies = try Self.proxies("192.168.4.0/22")
        #expect(proxies.trusts("192.168.7.255"))
        #expect(!proxies.trusts("192.168.8.0"))
    }
}
