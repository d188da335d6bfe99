import CCurl

/// One libcurl easy handle and everything it points at: its error buffer, the string lists
/// given to it and the Swift closures its callbacks run. The only type that holds curl's
/// pointers; one handle serves one exchange and is cleaned up when the object goes away.
///
/// `@unchecked Sendable` so that it can be made on one thread and driven on a thread-pool
/// thread. That is safe because of how it is used, which libcurl also demands: one thread at a
/// time configures and performs a handle (never two at once), every callback runs on the thread
/// inside ``perform()`` (or in `deinit`'s cleanup), and nothing here is reached from anywhere else.
public final class CurlEasy: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The list set for each list option; libcurl keeps pointing at it until the option is set
    /// again or the handle is cleaned up.
    private var lists: [UInt32: UnsafeMutablePointer<curl_slist>] = [:]
    /// What the callbacks reach through their user pointer; lives as long as the handle.
    let callbacks = CurlCallbacks()

    /// Runs ``CurlGlobal/initialize()`` if nothing has yet, and makes a handle.
    public init() throws(CurlError) {
        guard CurlGlobal.initialize(), let handle = curl_easy_init() else { throw CurlError(CURLE_FAILED_INIT) }
        self.handle = handle
        self.errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        // Every property is set by now, so a throw from here runs deinit, which frees both.
        try Self.check(faros_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, self.errorBuffer))
    }

    deinit {
        // The cleanup may still call back (a protocol's goodbye, closing a cached connection):
        // the callbacks, lists and buffer are released only after this body.
        curl_easy_cleanup(self.handle)
        for list in self.lists.values { curl_slist_free_all(list) }
        self.errorBuffer.deallocate()
    }

    public func set(_ option: CurlStringOption, _ value: String) throws(CurlError) {
        try Self.check(faros_curl_setopt_string(self.handle, CURLoption(option.rawValue), value))
    }

    public func set(_ option: CurlIntOption, _ value: Int) throws(CurlError) {
        try Self.check(faros_curl_setopt_long(self.handle, CURLoption(option.rawValue), value))
    }

    public func set(_ option: CurlFlagOption, _ on: Bool) throws(CurlError) {
        try Self.check(faros_curl_setopt_long(self.handle, CURLoption(option.rawValue), on ? 1 : 0))
    }

    /// Copies `values` into a curl_slist that the handle owns until the option is set again or
    /// the handle goes away, so a handle reused for many exchanges holds one list per option.
    public func set(_ option: CurlListOption, _ values: [String]) throws(CurlError) {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for value in values {
            guard let longer = curl_slist_append(list, value) else {
                curl_slist_free_all(list)
                throw CurlError(CURLE_OUT_OF_MEMORY)
            }
            list = longer
        }
        let code = faros_curl_setopt_slist(self.handle, CURLoption(option.rawValue), list)
        guard code == CURLE_OK else {
            // libcurl still points at the previous list, which stays.
            curl_slist_free_all(list)
            throw CurlError(code)
        }
        // libcurl no longer points at the previous list: free it.
        if let previous = self.lists.removeValue(forKey: option.rawValue) { curl_slist_free_all(previous) }
        if let list { self.lists[option.rawValue] = list }
    }

    public func set(protocols: CurlProtocols) throws(CurlError) {
        try Self.check(faros_curl_setopt_long(self.handle, CURLOPT_PROTOCOLS, protocols.rawValue))
    }

    public func set(useSSL: CurlUseSSL) throws(CurlError) {
        try Self.check(faros_curl_setopt_long(self.handle, CURLOPT_USE_SSL, useSSL.rawValue))
    }

    /// The exact number of bytes the read callback will hand out (CURLOPT_INFILESIZE_LARGE).
    public func set(uploadSize: Int64) throws(CurlError) {
        try Self.check(faros_curl_setopt_offset(self.handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(uploadSize)))
    }

    /// The request body of a POST, copied by libcurl (CURLOPT_POSTFIELDSIZE_LARGE, then
    /// CURLOPT_COPYPOSTFIELDS, so the bytes may hold NULs); makes the request a POST.
    public func set(postBody: [UInt8]) throws(CurlError) {
        try Self.check(faros_curl_setopt_offset(self.handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(postBody.count)))
        // An empty array may have no storage: libcurl is given a valid pointer and copies 0 bytes.
        let code = postBody.isEmpty
            ? withUnsafeBytes(of: UInt8(0)) { faros_curl_setopt_pointer(self.handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
            : postBody.withUnsafeBytes { faros_curl_setopt_pointer(self.handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
        try Self.check(code)
    }

    public func set(httpVersion: CurlHTTPVersion) throws(CurlError) {
        try Self.check(faros_curl_setopt_long(self.handle, CURLOPT_HTTP_VERSION, httpVersion.rawValue))
    }

    /// Runs the exchange on the calling thread; the callbacks run on it too.
    public func perform() throws(CurlError) {
        self.errorBuffer.pointee = 0
        let code = curl_easy_perform(self.handle)
        guard code == CURLE_OK else {
            throw CurlError(code, detail: self.errorBuffer.pointee != 0 ? String(cString: self.errorBuffer) : "")
        }
    }

    /// The last response's status (HTTP) or reply code (SMTP); 0 when none was received.
    public func responseCode() throws(CurlError) -> Int {
        var status = 0
        try Self.check(faros_curl_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status))
        return status
    }

    /// The value of the last response's header `name` (any case), or nil when it had none; the
    /// last one when it came more than once (curl_easy_header).
    public func responseHeader(_ name: String) -> String? {
        var header: UnsafeMutablePointer<curl_header>? = nil
        guard curl_easy_header(self.handle, name, 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
              let first = header
        else { return nil }
        let count = first.pointee.amount
        if count > 1, curl_easy_header(self.handle, name, count - 1, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK,
           let last = header {
            return String(cString: last.pointee.value)
        }
        return String(cString: first.pointee.value)
    }

    static func check(_ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else { throw CurlError(code) }
    }
}
