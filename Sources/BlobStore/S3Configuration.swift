/// Where an S3-compatible bucket is and how to sign for it (`FAROS_S3_*`).
public struct S3Configuration: Sendable {
    /// `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`, …
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var accessKeyID: String
    public var secretAccessKey: String
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key`: what MinIO, moto and most
    /// self-hosted servers need. Off by default, as on AWS.
    public var pathStyle: Bool = false
    /// Uploads are spooled here (on local disk) and sent with their length once complete and
    /// checked: memory stays flat, and a rejected upload never reaches the bucket.
    public var spoolDirectory: String

    public init(endpoint: String, region: String, bucket: String, accessKeyID: String, secretAccessKey: String,
                pathStyle: Bool = false, spoolDirectory: String) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.pathStyle = pathStyle
        self.spoolDirectory = spoolDirectory
    }

    /// `(scheme, host[:port])` of the endpoint, nil when it is not an http(s) URL with a host.
    var endpointParts: (scheme: String, authority: String)? {
        let lower = endpoint.lowercased()
        let scheme: String
        if lower.hasPrefix("http://") { scheme = "http" } else if lower.hasPrefix("https://") { scheme = "https" } else { return nil }
        var authority = String(endpoint.dropFirst(scheme.count + 3))
        while authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@") else { return nil }
        return (scheme, authority)
    }
}
