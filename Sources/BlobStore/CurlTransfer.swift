#if canImport(Glibc)
import Glibc
#endif
import CurlClient
import NIOCore

/// One blocking HTTP exchange through ``CurlEasy``: the S3 store's requests, as curl options.
/// Runs on a thread-pool thread (the caller's job); a handle lives for one exchange.
enum CurlTransfer {
    struct Request {
        var method: String
        var url: String
        var headers: [String]
        /// A file to send as the body (PUT), read from its start, `uploadSize` bytes.
        var uploadFD: Int32? = nil
        var uploadSize: Int64 = 0
        /// Most response-body bytes kept (a ranged GET asks for at most this many).
        var maxBodyBytes: Int = 1 << 16
        var timeoutSeconds: Int = 300
    }

    struct Response {
        var status: Int
        var body: ByteBuffer
    }

    /// The bytes kept of a response body; the write closure captures it for one exchange.
    private final class Body {
        var bytes: ByteBuffer
        let limit: Int
        var overflow = false
        init(limit: Int) {
            self.bytes = ByteBufferAllocator().buffer(capacity: min(limit, 1 << 20))
            self.limit = limit
        }
    }

    static func perform(_ request: Request) throws -> Response {
        guard let easy = try? CurlEasy() else { throw BlobStoreError.failed("curl init") }
        let body = Body(limit: request.maxBodyBytes)
        do {
            try easy.set(.url, request.url)
            try easy.set(.customRequest, request.method)
            // "Expect: 100-continue" would add a round trip to every PUT.
            try easy.set(.httpHeaders, request.headers + ["Expect:"])
            try easy.set(.noSignal, true)
            try easy.set(.timeoutSeconds, request.timeoutSeconds)
            try easy.set(.connectTimeoutSeconds, 10)
            try easy.set(protocols: [.http, .https])
            try easy.onWrite { buffer in
                // Past the limit bytes are dropped, not refused: an error status's XML body may be
                // longer than the range asked for, and the status decides what the answer means.
                let room = max(0, body.limit - body.bytes.readableBytes)
                if buffer.count > room { body.overflow = true }
                body.bytes.writeBytes(UnsafeRawBufferPointer(rebasing: buffer.prefix(room)))
                return buffer.count
            }
            if request.method == "HEAD" {
                try easy.set(.noBody, true)
            }
            if let fd = request.uploadFD {
                try easy.set(.upload, true)
                try easy.set(uploadSize: request.uploadSize)
                try easy.onRead { buffer in
                    while true {
                        let n = read(fd, buffer.baseAddress, buffer.count)
                        if n >= 0 { return n }
                        if errno != EINTR { return CurlEasy.readAbort }
                    }
                }
                // CUSTOMREQUEST keeps the method; UPLOAD makes curl send the body.
            }
        } catch {
            throw BlobStoreError.failed("curl setopt")
        }

        do throws(CurlError) {
            try easy.perform()
        } catch {
            throw BlobStoreError.failed("curl: \(error.summary)")
        }
        guard let status = try? easy.responseCode() else {
            throw BlobStoreError.failed("curl getinfo")
        }
        if body.overflow, (200..<300).contains(status) {
            throw BlobStoreError.failed("response larger than \(request.maxBodyBytes) bytes")
        }
        return Response(status: status, body: body.bytes)
    }
}
