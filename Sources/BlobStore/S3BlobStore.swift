public import NIOCore
public import NIOPosix
import CurlClient

/// Blobs as objects in an S3-compatible bucket, through libcurl with Signature V4.
///
/// Uploads spool to a local file as they stream in (see ``S3Configuration/spoolDirectory``)
/// and are sent with one streamed PUT of known length at commit; downloads are ranged GETs of
/// at most the chunk the caller asks for, so neither direction holds a file in memory. Every
/// request runs on `threadPool`.
public final class S3BlobStore: BlobStore {
    public let backendName = "s3"
    private let configuration: S3Configuration
    private let signer: SigV4Signer
    private let scheme: String
    private let authority: String
    let threadPool: NIOThreadPool

    public enum ConfigurationError: Error, CustomStringConvertible {
        case badEndpoint(String)
        case missing(String)
        public var description: String {
            switch self {
            case .badEndpoint(let endpoint): return "S3 endpoint '\(endpoint)' is not an http(s)://host[:port] URL"
            case .missing(let what): return "S3 setting missing: \(what)"
            }
        }
    }

    public init(configuration: S3Configuration, threadPool: NIOThreadPool) throws {
        guard let parts = configuration.endpointParts else { throw ConfigurationError.badEndpoint(configuration.endpoint) }
        for (name, value) in [("bucket", configuration.bucket), ("region", configuration.region),
                              ("access key id", configuration.accessKeyID), ("secret access key", configuration.secretAccessKey)]
        where value.isEmpty {
            throw ConfigurationError.missing(name)
        }
        self.configuration = configuration
        self.signer = SigV4Signer(accessKeyID: configuration.accessKeyID, secretAccessKey: configuration.secretAccessKey,
                                  region: configuration.region)
        (self.scheme, self.authority) = parts
        self.threadPool = threadPool
        // libcurl's global set-up is not thread-safe: done here, at start-up, before any transfer.
        CurlGlobal.initialize()
        try POSIXFile.makeDirectories(configuration.spoolDirectory)
        try POSIXFile.removePartials(in: configuration.spoolDirectory, prefix: S3BlobWriter.spoolPrefix)
    }

    /// The request for `key` (or the bucket itself when nil), signed now.
    func request(_ method: String, key: String?, extra: [(String, String)] = []) -> CurlTransfer.Request {
        let bucket = self.configuration.bucket
        let host: String
        var path: String
        if self.configuration.pathStyle {
            host = self.authority
            path = "/\(bucket)"
            if let key { path += "/\(key)" }
        } else {
            host = "\(bucket).\(self.authority)"
            path = "/" + (key ?? "")
        }
        let headers = self.signer.headers(method: method, host: host, path: path, extra: extra, date: .now)
        return CurlTransfer.Request(method: method, url: "\(self.scheme)://\(host)\(path)", headers: headers.map { "\($0.0): \($0.1)" })
    }

    public func makeWriter(eventLoop: any EventLoop) -> EventLoopFuture<any BlobWriter> {
        let spool = self.configuration.spoolDirectory
        return self.threadPool.runIfActive(eventLoop: eventLoop) { () throws -> any BlobWriter in
            let key = BlobKey.generate()
            let path = "\(spool)/\(S3BlobWriter.spoolPrefix)\(key)"
            let fd = try POSIXFile.createExclusive(path, readable: true)
            return S3BlobWriter(key: key, fd: fd, spoolPath: path, store: self, threadPool: self.threadPool, eventLoop: eventLoop)
        }
    }

    /// Sends the spooled file as the object `key` (blocking; on the thread pool).
    func put(key: String, fd: Int32, size: Int64) throws {
        try POSIXFile.rewind(fd)
        var request = self.request("PUT", key: key, extra: [("content-length", "\(size)")])
        request.uploadFD = fd
        request.uploadSize = size
        let response = try CurlTransfer.perform(request)
        guard (200..<300).contains(response.status) else { throw BlobStoreError.failed("S3 PUT status \(response.status)") }
    }

    public func read(key: String, offset: Int64, length: Int, eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer> {
        guard BlobKey.isValid(key) else { return eventLoop.makeFailedFuture(BlobStoreError.notFound) }
        guard length > 0 else { return eventLoop.makeSucceededFuture(ByteBuffer()) }
        return self.threadPool.runIfActive(eventLoop: eventLoop) {
            var request = self.request("GET", key: key, extra: [("range", "bytes=\(offset)-\(offset + Int64(length) - 1)")])
            request.maxBodyBytes = length
            let response = try CurlTransfer.perform(request)
            switch response.status {
            case 200, 206: return response.body
            case 416: return ByteBuffer()
            case 404: throw BlobStoreError.notFound
            default: throw BlobStoreError.failed("S3 GET status \(response.status)")
            }
        }
    }

    public func delete(key: String) async throws {
        guard BlobKey.isValid(key) else { return }
        try await self.threadPool.runIfActive {
            let response = try CurlTransfer.perform(self.request("DELETE", key: key))
            guard (200..<300).contains(response.status) || response.status == 404 else {
                throw BlobStoreError.failed("S3 DELETE status \(response.status)")
            }
        }
    }

    /// Whether the bucket exists and the keys may use it (HEAD bucket); start-up logs it.
    public func checkBucket() async throws {
        try await self.threadPool.runIfActive {
            let response = try CurlTransfer.perform(self.request("HEAD", key: nil))
            guard (200..<300).contains(response.status) else { throw BlobStoreError.failed("S3 bucket check status \(response.status)") }
        }
    }

    public func shutdown() async {}
}
