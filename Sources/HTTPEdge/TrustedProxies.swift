#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The peers whose `X-Forwarded-For` is believed (`FAROS_TRUSTED_PROXIES`), and how the client's
/// address is derived from it.
///
/// From a trusted peer, the client is the rightmost `X-Forwarded-For` entry that is not itself a
/// trusted proxy: entries further left were written by the client and prove nothing (a client
/// can send any `X-Forwarded-For` it likes, so only what the proxies appended counts). From an
/// untrusted peer the header is ignored. Rate limits per address key on the result.
public struct TrustedProxies: Sendable, Hashable {
    /// One CIDR block: an address of 4 or 16 bytes and a prefix length.
    public struct Block: Sendable, Hashable, CustomStringConvertible {
        var bytes: [UInt8]
        var prefix: Int

        /// `10.0.0.0/8`, `::1/128`, or a single address (`192.0.2.7` = `/32`).
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = TrustedProxies.parse(String(parts[0])) else { return nil }
            let maxPrefix = address.count * 8
            if parts.count == 2 {
                guard let prefix = Int(parts[1]), (0...maxPrefix).contains(prefix), !parts[1].hasPrefix("+") else { return nil }
                self.prefix = prefix
            } else {
                self.prefix = maxPrefix
            }
            self.bytes = address
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for index in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if (address[index] & mask) != (bytes[index] & mask) { return false }
                remaining -= bits
            }
            return true
        }

        public var description: String {
            (TrustedProxies.format(bytes) ?? "?") + "/\(prefix)"
        }
    }

    public var blocks: [Block]

    public init(_ blocks: [Block] = []) {
        self.blocks = blocks
    }

    /// Parses a comma-separated list; nil names the first entry that is not a CIDR block.
    public static func parse(list: String) -> Result<TrustedProxies, InvalidEntry> {
        var blocks: [Block] = []
        for entry in list.split(separator: ",") {
            let text = String(entry.trimmingHTTPSpaces)
            if text.isEmpty { continue }
            guard let block = Block(text) else { return .failure(InvalidEntry(text: text)) }
            blocks.append(block)
        }
        return .success(TrustedProxies(blocks))
    }

    public struct InvalidEntry: Error, Sendable, Hashable {
        public var text: String
    }

    public var isEmpty: Bool { blocks.isEmpty }

    /// Whether `address` (textual IPv4 or IPv6) is a trusted proxy.
    public func trusts(_ address: String) -> Bool {
        guard let bytes = Self.parse(address) else { return false }
        return self.trusts(bytes)
    }

    private func trusts(_ bytes: [UInt8]) -> Bool {
        let candidates = [bytes] + (Self.unmappedIPv4(bytes).map { [$0] } ?? [])
        return candidates.contains { candidate in blocks.contains { $0.contains(candidate) } }
    }

    /// The client address for a connection from `peer` carrying these `X-Forwarded-For` values.
    public func clientAddress(peer: String, forwardedFor: [String]) -> String {
        guard !blocks.isEmpty, self.trusts(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",").map { String($0.trimmingHTTPSpaces) } }
        var client = peer
        for hop in hops.reversed() {
            guard let bytes = Self.parse(hop) else { return client }
            client = Self.format(bytes) ?? hop
            if !self.trusts(bytes) { return client }
        }
        return client
    }

    /// IPv4 or IPv6 text to its bytes; accepts `[v6]` and strips an IPv6 zone.
    static func parse(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `::ffff:a.b.c.d` → `a.b.c.d`, so IPv4 blocks match IPv4 peers on dual-stack sockets.
    static func unmappedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return Array(bytes[12..<16])
    }
}
