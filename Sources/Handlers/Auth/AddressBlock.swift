/// The block of addresses that per-address limits treat as one client.
///
/// An IPv4 address is one client: it is scarce, and a NAT that puts an office behind one
/// address is what the per-address limits are sized for. An IPv6 address is not: the smallest
/// block a network is given is a /64, so whoever has one can use 2^64 addresses, and a limit
/// keyed by the full address would be void. IPv6 addresses are therefore keyed by their /64,
/// and an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket shows an IPv4
/// peer) by its IPv4 address, so one client is one key however it connects.
///
/// Pure Swift (the domain links no C): the server's text is `inet_ntop`'s, but every RFC 4291
/// spelling is accepted. Text that is neither address family is its own key.
enum AddressBlock {
    /// The key of the block `address` belongs to: `192.0.2.1`, `2001:db8:1:2::/64`.
    static func key(_ address: String) -> String {
        var text = Substring(address)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        if let v4 = ipv4(text) { return format(v4) }
        guard let v6 = ipv6(text) else { return address }
        if v6[0..<10].allSatisfy({ $0 == 0 }), v6[10] == 0xFF, v6[11] == 0xFF {
            return format(Array(v6[12..<16]))
        }
        var groups: [String] = []
        for index in stride(from: 0, to: 8, by: 2) {
            groups.append(String(UInt16(v6[index]) << 8 | UInt16(v6[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":") + "::/64"
    }

    private static func format(_ v4: [UInt8]) -> String {
        v4.map(String.init).joined(separator: ".")
    }

    /// Four decimal octets, each 0–255 without a sign or more than three digits.
    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part)
            else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    /// Sixteen bytes from RFC 4291 text: up to eight groups of 1–4 hex digits, at most one `::`,
    /// and optionally an IPv4 address in place of the last two groups.
    static func ipv6(_ text: Substring) -> [UInt8]? {
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = groups(halves[0], allowIPv4: halves.count == 1) else { return nil }
        var tail: [UInt16] = []
        if halves.count == 2 {
            guard let parsed = groups(halves[1], allowIPv4: true) else { return nil }
            tail = parsed
        }
        let all: [UInt16]
        if halves.count == 2 {
            guard head.count + tail.count <= 7 else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// The 16-bit groups of one side of a `::`; an empty side has none.
    private static func groups(_ text: Substring, allowIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4, part.contains(".") {
                guard let v4 = ipv4(part) else { return nil }
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            guard (1...4).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isHexDigit }), let value = UInt16(part, radix: 16) else {
                return nil
            }
            groups.append(value)
        }
        return groups
    }
}
