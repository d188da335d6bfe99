import ArgumentParser

/// The S3 flags, shared by `serve` (the file store) and `import` (the file store, and the
/// FAROS bucket it reads with the same endpoint and credentials).
struct S3Options: ParsableArguments {
    @Option(help: "S3-compatible endpoint for files, e.g. https://s3.eu-central-1.amazonaws.com; unset keeps files in DATA_DIR/files. (env: FAROS_S3_ENDPOINT; default: none)")
    var s3Endpoint: String?

    @Option(help: "S3 region used in request signatures. (env: FAROS_S3_REGION; default: us-east-1)")
    var s3Region: String?

    @Option(help: "S3 bucket for files (required with --s3-endpoint). (env: FAROS_S3_BUCKET)")
    var s3Bucket: String?

    @Option(help: "S3 access key id (required with --s3-endpoint). (env: FAROS_S3_ACCESS_KEY_ID)")
    var s3AccessKeyID: String?

    @Option(help: "S3 secret access key (required with --s3-endpoint). (env: FAROS_S3_SECRET_ACCESS_KEY)")
    var s3SecretAccessKey: String?

    @Flag(inversion: .prefixedNo, help: "Path-style S3 URLs (endpoint/bucket/key), as MinIO and most self-hosted servers need. (env: FAROS_S3_PATH_STYLE; default: off)")
    var s3PathStyle: Bool?
}

extension Settings.S3Settings {
    /// The S3 settings from flags and environment, or nil without an endpoint. `bucketRequired`
    /// false lets the bucket be absent (`import` reading FAROS's bucket into a local store):
    /// then `bucket` is empty.
    init?(_ options: S3Options, reader: SettingReader, bucketRequired: Bool = true) throws {
        guard let endpoint = reader.string(options.s3Endpoint, "FAROS_S3_ENDPOINT") else { return nil }
        let lower = endpoint.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ValidationError("--s3-endpoint / FAROS_S3_ENDPOINT: expected an http:// or https:// URL, got '\(endpoint)'")
        }
        func required(_ flag: String?, _ variable: String) throws -> String {
            guard let value = reader.string(flag, variable) else {
                throw ValidationError("\(SettingReader.names(variable)) is required with --s3-endpoint")
            }
            return value
        }
        self.init(
            endpoint: endpoint,
            region: reader.string(options.s3Region, "FAROS_S3_REGION") ?? "us-east-1",
            bucket: bucketRequired ? try required(options.s3Bucket, "FAROS_S3_BUCKET") : reader.string(options.s3Bucket, "FAROS_S3_BUCKET") ?? "",
            accessKeyID: try required(options.s3AccessKeyID, "FAROS_S3_ACCESS_KEY_ID"),
            secretAccessKey: try required(options.s3SecretAccessKey, "FAROS_S3_SECRET_ACCESS_KEY"),
            pathStyle: try reader.bool(options.s3PathStyle, "FAROS_S3_PATH_STYLE") ?? false
        )
    }
}
