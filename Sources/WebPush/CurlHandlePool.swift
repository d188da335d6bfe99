import CurlClient
import Synchronization

/// Idle libcurl handles for reuse, each with the connections it keeps open.
///
/// A handle is checked out by one exchange at a time (libcurl demands it) and checked back in
/// after a completed exchange, so the next message to the same push service finds its HTTP/2 or
/// keep-alive connection warm. At most `maximumIdle` are kept; under a burst more are made and
/// the extra ones freed on check-in, so the pool never limits concurrency (the thread pool does).
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlEasy]>([])
    let maximumIdle: Int
    let caFile: String?

    init(maximumIdle: Int, caFile: String? = nil) {
        self.maximumIdle = max(0, maximumIdle)
        self.caFile = caFile
    }

    /// An idle handle, or a new one with the options every push request shares.
    func checkOut() throws(CurlError) -> CurlEasy {
        if let easy = self.idle.withLock({ $0.popLast() }) { return easy }
        let easy = try CurlEasy()
        try easy.set(.noSignal, true)
        try easy.set(protocols: [.http, .https])
        // HTTP/2 when TLS negotiates it; libcurl uses HTTP/1.1 for cleartext http.
        try easy.set(httpVersion: .http2OverTLS)
        if let caFile = self.caFile { try easy.set(.caInfo, caFile) }
        return easy
    }

    /// Returns `easy` after an exchange that completed; a handle whose exchange failed is simply
    /// dropped (and cleaned up), never checked in.
    func checkIn(_ easy: CurlEasy) {
        // A handle not kept is released when this returns, outside the lock (its cleanup may
        // close connections).
        self.idle.withLock { idle in
            if idle.count < self.maximumIdle { idle.append(easy) }
        }
    }

    var idleCount: Int { self.idle.withLock { $0.count } }
}
