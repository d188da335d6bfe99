import CCurl

/// A libcurl call that failed: its result code and what libcurl said about it.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// A CURLcode, named where an adapter maps it to its own errors.
    public struct Code: Hashable, Sendable {
        public let rawValue: UInt32
        init(_ code: CURLcode) { self.rawValue = code.rawValue }

        public static let failedInit = Self(CURLE_FAILED_INIT)
        public static let outOfMemory = Self(CURLE_OUT_OF_MEMORY)
        public static let couldNotResolveHost = Self(CURLE_COULDNT_RESOLVE_HOST)
        public static let couldNotConnect = Self(CURLE_COULDNT_CONNECT)
        public static let weirdServerReply = Self(CURLE_WEIRD_SERVER_REPLY)
        public static let partialFile = Self(CURLE_PARTIAL_FILE)
        public static let operationTimedOut = Self(CURLE_OPERATION_TIMEDOUT)
        public static let gotNothing = Self(CURLE_GOT_NOTHING)
        public static let sendError = Self(CURLE_SEND_ERROR)
        public static let recvError = Self(CURLE_RECV_ERROR)
        public static let abortedByCallback = Self(CURLE_ABORTED_BY_CALLBACK)
        public static let loginDenied = Self(CURLE_LOGIN_DENIED)
        public static let authError = Self(CURLE_AUTH_ERROR)
        public static let useSSLFailed = Self(CURLE_USE_SSL_FAILED)
        public static let sslConnectError = Self(CURLE_SSL_CONNECT_ERROR)
        public static let peerFailedVerification = Self(CURLE_PEER_FAILED_VERIFICATION)
        public static let sslCACertBadFile = Self(CURLE_SSL_CACERT_BADFILE)
        public static let sslCertProblem = Self(CURLE_SSL_CERTPROBLEM)
        public static let sslCipher = Self(CURLE_SSL_CIPHER)
        public static let sslEngineInitFailed = Self(CURLE_SSL_ENGINE_INITFAILED)
        public static let sslShutdownFailed = Self(CURLE_SSL_SHUTDOWN_FAILED)
        public static let sslCRLBadFile = Self(CURLE_SSL_CRL_BADFILE)
        public static let sslIssuerError = Self(CURLE_SSL_ISSUER_ERROR)
        public static let sslPinnedPubKeyNotMatch = Self(CURLE_SSL_PINNEDPUBKEYNOTMATCH)
        public static let sslInvalidCertStatus = Self(CURLE_SSL_INVALIDCERTSTATUS)
    }

    public let code: Code
    /// libcurl's fixed text for the code (curl_easy_strerror), e.g. "Couldn't connect to server".
    public let summary: String
    /// The handle's error buffer when libcurl filled it (it names the host, the reply, ...),
    /// otherwise ``summary``.
    public let message: String

    init(_ code: CURLcode, detail: String = "") {
        self.code = Code(code)
        self.summary = String(cString: curl_easy_strerror(code))
        self.message = detail.isEmpty ? self.summary : detail
    }

    public var description: String { "curl error \(self.code.rawValue): \(self.message)" }
}
