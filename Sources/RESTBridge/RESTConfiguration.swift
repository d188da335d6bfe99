public import WebSocketCore

/// The bridge's limits and settings (the executable reads them from flags and `FAROS_*`).
public struct RESTConfiguration: Sendable {
    /// Largest attachment (`FAROS_MAX_UPLOAD_BYTES`, default 25 MiB, README "Configuration"): ample
    /// for documents and photos, small enough that a few concurrent uploads cannot fill the disk.
    public var maxUploadBytes: Int64 = 25 << 20
    /// Browser origins allowed to call the bridge cross-origin (CORS), normalized
    /// `scheme://host[:port]`, besides the server's own.
    public var allowedOrigins: Set<String> = []
    /// The server's own origin (the public URL's, fixed once the port is bound), shared with the
    /// WebSocket upgrade.
    public var serverOrigin: ServerOrigin? = nil
    /// A request body that stops arriving for this long is abandoned and the connection closed
    /// (and a partial upload removed): 10 s, like the handshake timeout, so a stalled client
    /// holds nothing for long.
    public var bodyIdleTimeout: Duration = .seconds(10)
    /// The longest an upload may take from its head to its last byte (`FAROS_UPLOAD_TIMEOUT`,
    /// default 30 min): a 25 MiB file needs about 14 KiB/s, far below any working link, while a
    /// client trickling bytes holds its blob and descriptor open for at most this long.
    public var uploadTimeout: Duration = .seconds(30 * 60)
    /// The least an upload's body must average, in bytes per second of waiting for the client,
    /// once it has waited longer than ``bodyIdleTimeout`` (`FAROS_UPLOAD_MIN_RATE`, default
    /// 1 KiB/s; 0 turns it off): one byte every few seconds keeps the idle timeout from firing,
    /// not this.
    public var uploadMinBytesPerSecond = 1 << 10
    /// Most bytes of a form (`POST /reset-password`) or any other small body: 16 KiB.
    public var maxFormBytes = 16 << 10
    /// Bytes written to the blob store per write: large enough for throughput, small enough
    /// that many concurrent uploads stay within a few MiB (reading pauses while one is pending).
    public var uploadChunkBytes = 128 << 10
    /// Bytes read from the blob store per read of a download (two are in flight at most).
    public var downloadChunkBytes = 256 << 10

    public init() {}
}
