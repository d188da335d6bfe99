public import WebSocketCore

/// Everything the JSON-RPC transport needs to upgrade and serve sessions (the listener's own
/// settings are ``HTTPEdge/HTTPEdgeConfiguration``).
///
/// Reading flags and environment variables is the executable's job; this is the checked result.
/// Defaults are the ones `protocol/README.md` ("Limits") documents, each with its reason.
public struct ServerConfiguration: Sendable {
    /// Base URL users reach the server at (mail links, the server's own origin); nil derives it from host and port.
    public var publicURL: String? = nil
    /// Browser origins allowed to open a WebSocket besides the server's own (normalized `scheme://host[:port]`).
    public var allowedOrigins: Set<String> = []
    /// The server's own origin, shared with the REST bridge and fixed once the port is bound;
    /// nil uses ``publicURL``'s.
    public var serverOrigin: ServerOrigin? = nil
    /// Whether `/echo` exists. Off by default: it is for conformance and load tests of the framing layer.
    public var enableEcho: Bool = false

    public var rpc = RPCEndpoint()
    public var echo = EchoEndpoint()
    public var timeouts = Timeouts()

    /// permessage-deflate policy; nil never negotiates it.
    public var deflate: PerMessageDeflateConfiguration? = .default

    public init() {}

    /// Limits of the JSON-RPC endpoint `/rpc`.
    public struct RPCEndpoint: Sendable {
        /// Largest message (after decompression). 1 MiB: far above any legitimate call, small enough
        /// that a hostile client cannot make the server buffer much per session.
        public var maxMessageBytes: Int = 1 << 20
        /// Largest JSON-RPC batch; one batch runs its members concurrently, so this bounds the work one message starts.
        public var maxBatch: Int = 50
        /// Sustained calls per second per session (token bucket refill rate).
        public var callsPerSecond: Double = 50
        /// Burst of calls a session may make at once (token bucket size).
        public var callBurst: Double = 100
        /// Calls in flight per session before the server stops reading from that socket (backpressure, not an error).
        public var maxInflight: Int = 32
        /// Bytes queued towards one session before it is cut off with 1013: a slow consumer must never
        /// slow the others or grow the server's memory without bound.
        public var outboundBufferBytes: Int = 4 << 20
        /// Most bytes the answer to one message (a response, or a batch's array) may take for a
        /// signed-in session; each result past it is answered -32013 with `data.limit`. 4 MiB, the
        /// outbound buffer: an answer that alone could fill it would cut its session off.
        public var maxResponseBytes: Int = 4 << 20
        /// The same for an anonymous session. 128 KiB: room for `rpc.discover` (the whole
        /// protocol document, about 80 KB) and the sign-in calls, while a small batch from someone
        /// who has not even signed in cannot make the server send megabytes.
        public var anonymousMaxResponseBytes: Int = 128 << 10
        /// Subprotocol offered back when the client asks for it.
        public var subprotocol: String = "faros.v1"

        public init() {}
    }

    /// Limits of the echo endpoint `/echo`.
    public struct EchoEndpoint: Sendable {
        /// 16 MiB: the Autobahn suite's 9.x cases send messages of up to 16 MiB.
        public var maxMessageBytes: Int = 16 << 20
        public init() {}
    }

    public struct Timeouts: Sendable {
        /// A session that sends nothing (not even a pong to our pings) for this long is closed with 1008.
        /// Pings go out at half this interval so a healthy idle client always answers in time.
        public var idle: Duration = .seconds(60)
        /// How long a closing WebSocket connection may take before its TCP connection is dropped, whatever
        /// is still queued: the wait for the peer's close frame after ours, and the wait for our last
        /// frames to be written after the peer's close or a protocol failure. 3 s is ample for a peer
        /// that reads; one that stops reading must not keep its socket, queued bytes and session.
        public var close: Duration = .seconds(3)
        public init() {}
    }
}
