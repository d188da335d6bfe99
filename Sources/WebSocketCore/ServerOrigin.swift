import Synchronization

/// The server's own origin as users reach it (its public URL's), shared by the WebSocket upgrade
/// and the REST bridge. Started with `--port 0` and no public URL, it is known only once the
/// listener is bound, and ``set(url:)`` fixes it then; until then it names no port that could
/// match.
public final class ServerOrigin: Sendable {
    private let value: Mutex<String?>

    /// The origin of `url` (normalized), or none.
    public init(url: String?) {
        self.value = Mutex(url.flatMap { WebSocketHandshake.normalizedOrigin($0) })
    }

    /// The normalized `scheme://host[:port]`, if there is one.
    public var current: String? { value.withLock { $0 } }

    public func set(url: String) {
        let origin = WebSocketHandshake.normalizedOrigin(url)
        value.withLock { $0 = origin }
    }
}
