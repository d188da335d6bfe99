import ByteCoding

/// AWS Signature Version 4 for S3 requests with an unsigned payload (the body streams from a
/// file, so its hash is not known up front; S3 accepts `UNSIGNED-PAYLOAD` for that).
///
/// Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
struct SigV4Signer: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var region: String
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The headers to send: `host`, `x-amz-date`, `x-amz-content-sha256`, `authorization`, and
    /// `extra` (already lower-case names), all signed.
    ///
    /// `path` is the URI path exactly as sent (already percent-encoded); `query` the
    /// canonical query string (sorted, encoded) or empty.
    func headers(
        method: String, host: String, path: String, query: String = "",
        extra: [(String, String)] = [], date: UTCDate
    ) -> [(String, String)] {
        var headers = extra
        headers.append(("host", host))
        headers.append(("x-amz-content-sha256", Self.unsignedPayload))
        headers.append(("x-amz-date", date.amzDate))
        headers.sort { $0.0 < $1.0 }
        let canonicalHeaders = headers.map { "\($0.0):\($0.1.trimmingSpaces)\n" }.joined()
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let canonicalRequest = [method, path, query, canonicalHeaders, signedHeaders, Self.unsignedPayload].joined(separator: "\n")
        let scope = "\(date.day)/\(region)/s3/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", date.amzDate, scope,
            Hex.encode(Digest.sha256(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = Digest.hmacSHA256(key: Array("AWS4\(secretAccessKey)".utf8), message: Array(date.day.utf8))
        key = Digest.hmacSHA256(key: key, message: Array(region.utf8))
        key = Digest.hmacSHA256(key: key, message: Array("s3".utf8))
        key = Digest.hmacSHA256(key: key, message: Array("aws4_request".utf8))
        let signature = Hex.encode(Digest.hmacSHA256(key: key, message: Array(stringToSign.utf8)))
        headers.append((
            "authorization",
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))
        return headers
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
