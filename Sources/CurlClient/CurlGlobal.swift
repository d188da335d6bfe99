import CCurl

/// libcurl's process-wide set-up, done once for every client in the process.
///
/// curl_global_init is not thread-safe against other threads using libcurl (or the TLS library
/// underneath), so the adapters call ``initialize()`` from their initializers at start-up; a
/// Swift `static let` runs its initializer exactly once even when two threads get there together.
public enum CurlGlobal {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// Runs curl_global_init the first time; false when it failed (then no handle can be made).
    @discardableResult
    public static func initialize() -> Bool { Self.initialized }
}
