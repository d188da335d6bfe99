import ByteCoding
import Foundation
import JSON
import Testing
@testable import WebPush

/// The parts of a VAPID header, decoded.
struct DecodedVAPID {
    var header: JSONValue
    var claims: JSONValue
    var signingInput: [UInt8]
    var signature: [UInt8]
    var publicKey: [UInt8]

    init(_ authorization: String) throws {
        let prefix = "vapid t="
        try #require(authorization.hasPrefix(prefix))
        let parts = authorization.dropFirst(prefix.count).components(separatedBy: ", k=")
        try #require(parts.count == 2)
        let jwt = parts[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(jwt.count == 3)
        self.header = try Self.json(jwt[0])
        self.claims = try Self.json(jwt[1])
        self.signingInput = Array((jwt[0] + "." + jwt[1]).utf8)
        self.signature = try #require(Base64URL.decode(jwt[2].utf8))
        self.publicKey = try #require(Base64URL.decode(parts[1].utf8))
    }

    static func json(_ part: String) throws -> JSONValue {
        let bytes = try #require(Base64URL.decode(part.utf8))
        return try bytes.withUnsafeBytes { try JSONParser().parse($0) }
    }
}

@Suite struct VAPIDSignerTests {
    let key: VAPIDKey = VAPIDKey(privateKey: try! P256PrivateKey.generate())
    let now: Int64 = 1_760_000_000

    @Test func tokenClaimsAndSignature() throws {
        let signer = try VAPIDSigner(key: self.key, subject: "mailto:ops@example.com")
        let header = try signer.authorization(forEndpoint: "https://fcm.googleapis.com/fcm/send/abc:def?x=1", now: self.now)
        let decoded = try DecodedVAPID(header)
        #expect(decoded.header == ["typ": "JWT", "alg": "ES256"])
        #expect(decoded.claims["aud"]?.stringValue == "https://fcm.googleapis.com")
        #expect(decoded.claims["sub"]?.stringValue == "mailto:ops@example.com")
        #expect(decoded.claims["exp"]?.numberValue == JSONNumber(self.now + 12 * 3600))
        #expect(decoded.claims.objectValue?.count == 3)
        #expect(decoded.publicKey == self.key.publicKey)
        #expect(Base64URL.encode(decoded.publicKey) == self.key.publicKeyBase64URL)
        #expect(P256.verifyES256(publicKey: decoded.publicKey, message: decoded.signingInput, signature: decoded.signature))
    }

    @Test func oneTokenPerOriginReusedUntilAnHourIsLeft() throws {
        let signer = try VAPIDSigner(key: self.key, subject: "https://faros.example/contact")
        let first = try signer.authorization(forEndpoint: "https://updates.push.services.mozilla.com/wpush/v2/a", now: self.now)
        // Same origin, another subscription, later: the same token.
        let second = try signer.authorization(forEndpoint: "https://updates.push.services.mozilla.com/wpush/v2/b",
                                              now: self.now + 11 * 3600)
        #expect(second == first)
        // Less than an hour left: a new token, valid 12 hours from then.
        let third = try signer.authorization(forEndpoint: "https://updates.push.services.mozilla.com/wpush/v2/a",
                                             now: self.now + 11 * 3600 + 1)
        #expect(third != first)
        #expect(try DecodedVAPID(third).claims["exp"]?.numberValue == JSONNumber(self.now + 23 * 3600 + 1))
        // Another origin: its own token.
        let other = try signer.authorization(forEndpoint: "https://web.push.apple.com/xyz", now: self.now)
        #expect(try DecodedVAPID(other).claims["aud"]?.stringValue == "https://web.push.apple.com")
    }

    @Test func lifetimeAndSubjectAreChecked() throws {
        #expect(throws: VAPIDKeyError.self) { try VAPIDSigner(key: self.key, subject: "mailto:a@b.c", tokenLifetime: .seconds(24 * 3600 + 1)) }
        #expect(throws: VAPIDKeyError.self) { try VAPIDSigner(key: self.key, subject: "mailto:a@b.c", tokenLifetime: .seconds(3600)) }
        let longest = try VAPIDSigner(key: self.key, subject: "mailto:a@b.c", tokenLifetime: .seconds(24 * 3600))
        let claims = try DecodedVAPID(try longest.authorization(forEndpoint: "https://push.example", now: self.now)).claims
        #expect(claims["exp"]?.numberValue == JSONNumber(self.now + 24 * 3600))
        for bad in ["", "ops@example.com", "mailto:", "http://faros.example", "https://", "mailto:a b@c.d", "mailto:a@b\n"] {
            #expect(throws: VAPIDKeyError.self, "\(bad)") { try VAPIDSigner(key: self.key, subject: bad) }
        }
        _ = try VAPIDSigner(key: self.key, subject: "MAILTO:ops@example.com")
    }

    @Test(arguments: [
        ("https://fcm.googleapis.com/fcm/send/x", "https://fcm.googleapis.com"),
        ("HTTPS://Push.Example.COM:443/x", "https://push.example.com"),
        ("https://push.example:8443/x", "https://push.example:8443"),
        ("https://push.example:08443", "https://push.example:8443"),
        ("http://127.0.0.1:80/push/1", "http://127.0.0.1"),
        ("http://127.0.0.1:8080/push/1", "http://127.0.0.1:8080"),
        ("https://push.example?x", "https://push.example"),
        ("https://push.example#x", "https://push.example"),
        ("https://push.example:/x", "https://push.example"),
        ("http://[::1]:9000/p", "http://[::1]:9000"),
        ("https://[2001:db8::1]/p", "https://[2001:db8::1]"),
    ])
    func audience(_ endpoint: String, _ expected: String) {
        #expect(VAPIDSigner.audience(ofEndpoint: endpoint) == expected)
    }

    @Test(arguments: [
        "ftp://push.example/x", "push.example/x", "https:/push.example", "https:///x", "https://user:pw@push.example/x",
        "https://push.example:99999/x", "https://push.example:12ab/x", "https://[::1/x", "https://[::1]x/", "https://pu sh.example/",
        "", "https://",
    ])
    func noAudience(_ endpoint: String) throws {
        #expect(VAPIDSigner.audience(ofEndpoint: endpoint) == nil)
        let signer = try VAPIDSigner(key: self.key, subject: "mailto:a@b.c")
        #expect(throws: VAPIDSignerError.self) { try signer.authorization(forEndpoint: endpoint, now: self.now) }
    }
}

@Suite struct VAPIDKeyTests {
    @Test func createsAPrivateKeyFileAndReusesIt() throws {
        try withTemporaryDirectory { directory in
            let first = try VAPIDKey.loadOrCreate(dataDirectory: directory)
            let path = directory + "/vapid-private-key"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect(attributes[.posixPermissions] as? Int == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text == first.privateKeyBase64URL + "\n")
            #expect(text.count == 44)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["vapid-private-key"])
            let second = try VAPIDKey.loadOrCreate(dataDirectory: directory)
            #expect(second.publicKey == first.publicKey)
            #expect(first.publicKeyBase64URL.count == 87)
        }
    }

    @Test func refusesAFileOthersCanRead() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/vapid-private-key"
            let key = VAPIDKey(privateKey: try P256PrivateKey.generate())
            #expect(FileManager.default.createFile(atPath: path, contents: Data((key.privateKeyBase64URL + "\n").utf8)))
            for mode in [0o640, 0o604, 0o660] {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
                #expect {
                    try VAPIDKey.loadOrCreate(dataDirectory: directory)
                } throws: { ($0 as? VAPIDKeyError)?.message.contains("chmod 600") == true }
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
            #expect(try VAPIDKey.loadOrCreate(dataDirectory: directory).publicKey == key.publicKey)
        }
    }

    @Test func refusesAFileThatIsNotAKeyInsteadOfReplacingIt() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/vapid-private-key"
            for bad in ["", "not base64!", "AAAA\n", String(repeating: "A", count: 43), String(repeating: "_", count: 43)] {
                #expect(FileManager.default.createFile(atPath: path, contents: Data(bad.utf8), attributes: [.posixPermissions: 0o600]))
                #expect(throws: VAPIDKeyError.self, "\(bad)") { try VAPIDKey.loadOrCreate(dataDirectory: directory) }
                #expect(try String(contentsOfFile: path, encoding: .utf8) == bad)
            }
            // A symbolic link is not followed.
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/hostname")
            #expect(throws: VAPIDKeyError.self) { try VAPIDKey.loadOrCreate(dataDirectory: directory) }
        }
    }

    @Test func missingDirectoryIsAnError() {
        #expect(throws: VAPIDKeyError.self) { try VAPIDKey.loadOrCreate(dataDirectory: "/nonexistent/faros-webpush-test") }
    }

    @Test func fromTheSettingsBase64URL() throws {
        // RFC 8291's application server key, as `web-push generate-vapid-keys` would print it.
        let key = try VAPIDKey(base64URL: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
        #expect(key.publicKeyBase64URL == "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
        #expect(key.privateKeyBase64URL == "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
        // A pasted value with a newline or padding is forgiven.
        #expect(try VAPIDKey(base64URL: " yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw=\n").publicKey == key.publicKey)
    }

    @Test(arguments: [
        ("", "empty"),
        ("yfWPiYE+n46HLnH0KqZOF1fJJU3MYrct3AELtAQ/oRw", "not base64url"),
        ("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ", "bytes"),
        ("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8", "65 bytes"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a valid P-256 private key"),
        // 32 bytes of 0xFF: larger than the group order.
        ("__________________________________________8", "not a valid P-256 private key"),
    ])
    func badSettingValues(_ value: String, _ expected: String) {
        #expect {
            try VAPIDKey(base64URL: value)
        } throws: { error in
            guard let error = error as? VAPIDKeyError else { return false }
            return error.message.contains(expected)
        }
    }
}
