#if canImport(Glibc)
import Glibc
#endif
import CCurl
import NIOCore

/// One blocking HTTP exchange through libcurl: the only file that touches curl's handles and
/// pointers. Runs on a thread-pool thread (the caller's job); a handle lives for one exchange.
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

    /// curl_global_init is not thread-safe: called once, from the store's initializer at start-up.
    static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// What the callbacks reach through their user pointer, owned by ``perform(_:)`` for the
    /// length of the exchange (so the unretained pointer stays valid).
    private final class Context {
        var body: ByteBuffer
        let limit: Int
        let fd: Int32
        var overflow = false
        init(limit: Int, fd: Int32) {
            self.body = ByteBufferAllocator().buffer(capacity: min(limit, 1 << 20))
            self.limit = limit
            self.fd = fd
        }
    }

    static func perform(_ request: Request) throws -> Response {
        guard globalInit, let handle = curl_easy_init() else { throw BlobStoreError.failed("curl init") }
        defer { curl_easy_cleanup(handle) }
        let context = Context(limit: request.maxBodyBytes, fd: request.uploadFD ?? -1)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers { list = curl_slist_append(list, header) }
        // "Expect: 100-continue" would add a round trip to every PUT.
        list = curl_slist_append(list, "Expect:")
        defer { curl_slist_free_all(list) }

        let user = Unmanaged.passUnretained(context).toOpaque()
        var ok = true
        ok = ok && faros_curl_setopt_string(handle, CURLOPT_URL, request.url) == CURLE_OK
        ok = ok && faros_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method) == CURLE_OK
        ok = ok && faros_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_TIMEOUT, request.timeoutSeconds) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 10) == CURLE_OK
        ok = ok && faros_curl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK
        ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, user) == CURLE_OK
        ok = ok && faros_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, { buffer, size, count, user in
            let context = Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            // Past the limit bytes are dropped, not refused: an error status's XML body may be
            // longer than the range asked for, and the status decides what the answer means.
            let room = max(0, context.limit - context.body.readableBytes)
            if n > room { context.overflow = true }
            context.body.writeBytes(UnsafeRawBufferPointer(start: buffer, count: min(n, room)))
            return n
        }) == CURLE_OK
        if request.method == "HEAD" {
            ok = ok && faros_curl_setopt_long(handle, CURLOPT_NOBODY, 1) == CURLE_OK
        }
        if request.uploadFD != nil {
            ok = ok && faros_curl_setopt_long(handle, CURLOPT_UPLOAD, 1) == CURLE_OK
            ok = ok && faros_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.uploadSize)) == CURLE_OK
            ok = ok && faros_curl_setopt_pointer(handle, CURLOPT_READDATA, user) == CURLE_OK
            ok = ok && faros_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, { buffer, size, count, user in
                let context = Unmanaged<Context>.fromOpaque(user!).takeUnretainedValue()
                while true {
                    let n = read(context.fd, buffer, size * count)
                    if n >= 0 { return n }
                    if errno != EINTR { return Int(CURL_READFUNC_ABORT) }
                }
            }) == CURLE_OK
            // CUSTOMREQUEST keeps the method; UPLOAD makes curl send the body.
        }
        guard ok else { throw BlobStoreError.failed("curl setopt") }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw BlobStoreError.failed("curl: \(String(cString: curl_easy_strerror(code)))")
        }
        var status = 0
        guard faros_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK else {
            throw BlobStoreError.failed("curl getinfo")
        }
        if context.overflow, (200..<300).contains(status) {
            throw BlobStoreError.failed("response larger than \(request.maxBodyBytes) bytes")
        }
        return Response(status: status, body: context.body)
    }
}
