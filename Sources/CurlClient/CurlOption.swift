import CCurl

// The options the adapters set, one type per argument type, so that a value of the wrong type
// cannot reach curl_easy_setopt (which is variadic and checks nothing). Add a constant here when
// an adapter needs a new option.

/// An option that takes a string (copied by libcurl).
public struct CurlStringOption: Sendable {
    let rawValue: UInt32
    init(_ option: CURLoption) { self.rawValue = option.rawValue }

    public static let url = Self(CURLOPT_URL)
    public static let customRequest = Self(CURLOPT_CUSTOMREQUEST)
    /// The schemes allowed, e.g. "smtp,smtps".
    public static let protocols = Self(CURLOPT_PROTOCOLS_STR)
    public static let caInfo = Self(CURLOPT_CAINFO)
    public static let username = Self(CURLOPT_USERNAME)
    public static let password = Self(CURLOPT_PASSWORD)
    public static let mailFrom = Self(CURLOPT_MAIL_FROM)
}

/// An option that takes a number.
public struct CurlIntOption: Sendable {
    let rawValue: UInt32
    init(_ option: CURLoption) { self.rawValue = option.rawValue }

    public static let timeoutSeconds = Self(CURLOPT_TIMEOUT)
    public static let connectTimeoutSeconds = Self(CURLOPT_CONNECTTIMEOUT)
    public static let timeoutMilliseconds = Self(CURLOPT_TIMEOUT_MS)
    public static let connectTimeoutMilliseconds = Self(CURLOPT_CONNECTTIMEOUT_MS)
}

/// An option that is on or off.
public struct CurlFlagOption: Sendable {
    let rawValue: UInt32
    init(_ option: CURLoption) { self.rawValue = option.rawValue }

    public static let noSignal = Self(CURLOPT_NOSIGNAL)
    public static let noBody = Self(CURLOPT_NOBODY)
    public static let upload = Self(CURLOPT_UPLOAD)
    public static let verbose = Self(CURLOPT_VERBOSE)
}

/// An option that takes a list of strings (a curl_slist the handle owns).
public struct CurlListOption: Sendable {
    let rawValue: UInt32
    init(_ option: CURLoption) { self.rawValue = option.rawValue }

    public static let httpHeaders = Self(CURLOPT_HTTPHEADER)
    public static let mailRecipients = Self(CURLOPT_MAIL_RCPT)
}

/// The schemes a handle may use (CURLOPT_PROTOCOLS).
public struct CurlProtocols: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let http = Self(rawValue: Int(CURLPROTO_HTTP))
    public static let https = Self(rawValue: Int(CURLPROTO_HTTPS))
}

/// How much TLS a mail exchange demands (CURLOPT_USE_SSL).
public enum CurlUseSSL: Sendable {
    case none
    /// STARTTLS when the server offers it, plaintext otherwise.
    case tryTLS
    /// TLS or fail.
    case all

    var rawValue: Int {
        switch self {
        case .none: Int(CURLUSESSL_NONE.rawValue)
        case .tryTLS: Int(CURLUSESSL_TRY.rawValue)
        case .all: Int(CURLUSESSL_ALL.rawValue)
        }
    }
}

/// Which HTTP version a handle asks for (CURLOPT_HTTP_VERSION).
public enum CurlHTTPVersion: Sendable {
    case http1_1
    /// HTTP/2 when TLS negotiates it (ALPN), HTTP/1.1 otherwise and for cleartext `http`.
    case http2OverTLS

    var rawValue: Int {
        switch self {
        case .http1_1: Int(CURL_HTTP_VERSION_1_1)
        case .http2OverTLS: Int(CURL_HTTP_VERSION_2TLS)
        }
    }
}
