public import NIOCore
import ByteCoding

extension S3BlobStore {
    /// Up to `length` bytes from `offset` of the object at `path` in this store's bucket, or nil
    /// when there is no such object. For objects another application wrote (the FAROS uploads
    /// `faros import` copies), whose keys this module did not generate: each `/`-separated
    /// segment of `path` is percent-encoded (RFC 3986 unreserved characters stay), as SigV4's
    /// canonical URI wants it. Fewer bytes than asked only at the object's end.
    public func readObject(path: String, offset: Int64, length: Int) async throws -> ByteBuffer? {
        guard length > 0 else { return ByteBuffer() }
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { PercentEncoding.encode(String($0)) }
            .joined(separator: "/")
        return try await self.threadPool.runIfActive {
            var request = self.request("GET", key: encoded, extra: [("range", "bytes=\(offset)-\(offset + Int64(length) - 1)")])
            request.maxBodyBytes = length
            let response = try CurlTransfer.perform(request)
            switch response.status {
            case 200, 206: return response.body
            case 416: return ByteBuffer()
            case 404: return nil
            default: throw BlobStoreError.failed("S3 GET status \(response.status)")
            }
        }
    }
}
