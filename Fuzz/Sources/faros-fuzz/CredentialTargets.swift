import ByteCoding
import Credentials
import HTTPEdge
import NIOHTTP1

enum CredentialTargets {
    static let secret = [UInt8](repeating: 0x5A, count: 64)
    static let signer = TokenSigner(secret: secret)

    /// `Authorization` values (one per input line) as the edge reads them, and the bearer
    /// token, if any, verified as a session token.
    static func bearer(_ input: FuzzInput) {
        var headers = HTTPHeaders()
        for line in input.text.split(separator: "\n") {
            headers.add(name: "Authorization", value: String(line))
        }
        if case .some(let token?) = headers.bearerToken {
            _ = try? signer.verify(token, now: 1_700_000_000)
        }
    }

    /// A JWT verified with the server's secret. When the first byte is odd the token's
    /// signature is replaced by the correct one first, so the fuzzer gets past the MAC to the
    /// header and claims parsing; otherwise the token is checked as received. Link signatures
    /// are checked on the same text.
    static func jwt(_ input: FuzzInput) {
        var input = input
        let resign = input.choice() & 1 == 1
        var token = input.text
        if resign {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 3 {
                let signingInput = String(parts[0]) + "." + String(parts[1])
                let tag = Digest.hmacSHA256(key: secret, message: Array(signingInput.utf8))
                token = signingInput + "." + Base64URL.encode(tag)
            }
        }
        _ = try? signer.verify(token, now: 1_700_000_000)
        _ = signer.verifyLink(purpose: "download", message: token, signature: String(token.suffix(43)))
    }
}
