@testable import Handlers
import StoreTestSupport
import Testing

/// Per-address limits key IPv6 clients by their /64 and IPv4-mapped addresses by the IPv4 one.
@Suite struct AddressBlockTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("203.0.113.255", "203.0.113.255"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::", "2001:db8:1:2::/64"),
        ("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8::1", "2001:db8:0:0::/64"),
        ("::1", "0:0:0:0::/64"),
        ("::", "0:0:0:0::/64"),
        ("fe80::1%eth0", "fe80:0:0:0::/64"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("::FFFF:c000:0201", "192.0.2.1"),
        ("0:0:0:0:0:ffff:192.0.2.1", "192.0.2.1"),
        ("64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"),
        ("1:2:3:4:5:6:7::", "1:2:3:4::/64"),
    ])
    func keysTheBlock(_ address: String, _ expected: String) {
        #expect(AddressBlock.key(address) == expected)
    }

    @Test(arguments: [
        "unknown", "", "192.0.2", "192.0.2.1.5", "192.0.2.256", "192.0.2.01234", "+1.2.3.4",
        "2001:db8:::1", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1",
        "1:2:3:4:5:6:7::8", "::192.0.2", "١٢.0.0.1",
    ])
    func anythingElseIsItsOwnKey(_ text: String) {
        #expect(AddressBlock.key(text) == text)
    }

    /// The attack: a new address of one's /64 for every guess.
    @Test(arguments: TestBackend.allCases)
    func failedLoginsFromOneSlash64AreLimitedTogether(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            for index in 1...RateLimitPolicy.failedLoginsPerAddress.limit {
                let client = t.client(address: "2001:db8:77:1::\(String(index, radix: 16))")
                let error = await Auth.error(client, "auth.login", ["username": .string("user\(index)"), "password": "x"])
                #expect(error?.code == .unauthenticated)
            }
            let next = await Auth.error(t.client(address: "2001:db8:77:1:abcd::1"), "auth.login", ["username": "other", "password": "x"])
            #expect(next?.code == .rateLimited)
            // The neighbouring /64 is another client.
            let neighbour = await Auth.error(t.client(address: "2001:db8:77:2::1"), "auth.login", ["username": "other", "password": "x"])
            #expect(neighbour?.code == .unauthenticated)
        }
    }

    @Test func everyAddressOfOneSlash64SharesTheKeyAndOthersDoNot() {
        let one = RateLimitPolicy.addressKey("2001:db8:aa:bb::1")
        #expect(RateLimitPolicy.addressKey("2001:db8:aa:bb:ffff:1234:5678:9abc") == one)
        #expect(RateLimitPolicy.addressKey("2001:db8:aa:bc::1") != one)
        #expect(RateLimitPolicy.addressKey("::ffff:198.51.100.4") == RateLimitPolicy.addressKey("198.51.100.4"))
        #expect(RateLimitPolicy.addressKey("198.51.100.4") != RateLimitPolicy.addressKey("198.51.100.5"))
    }
}
