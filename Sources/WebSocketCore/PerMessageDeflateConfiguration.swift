/// The server's permessage-deflate policy: what it asks of clients and how hard it compresses.
///
/// The defaults are chosen for many long-lived connections exchanging small JSON messages,
/// where memory per connection matters more than the last percent of compression ratio.
/// zlib's cost per stream with these defaults, measured with a counting allocator (see
/// `PerMessageDeflate.zlibMemoryInUse`, zlib 1.2.13 on 64-bit Linux):
/// - deflate, 12-bit window, memLevel 4: 30,528 bytes, i.e. zlib's formula
///   `(1 << (windowBits + 2)) + (1 << (memLevel + 9))` = 24 KiB plus 5.8 KiB of state
///   (zlib's own defaults, 15 and 8, would cost 262 KiB);
/// - inflate: `1 << windowBits` plus 7.0 KiB of state: 11,256 bytes with a 12-bit window,
///   39,928 bytes with 15 bits (the window is allocated at the first output).
///
/// Both streams are created lazily and freed by `PerMessageDeflate.releaseIdleMemory()`, so an
/// idle connection that negotiated compression holds no zlib memory (given
/// client_no_context_takeover, which the defaults always obtain).
public struct PerMessageDeflateConfiguration: Sendable {
    /// Ask the client to let us reset our deflate window after every message.
    ///
    /// Default `true`: no deflate window has to be kept between messages, so the deflate
    /// stream can be freed whenever the connection is idle, and every message compresses the
    /// same way on every connection. The cost is ratio on streams of similar messages.
    public var requestServerNoContextTakeover: Bool

    /// Ask the client to reset its deflate window after every message.
    ///
    /// Default `true`: a server may ask this even when the client did not offer it (RFC 7692
    /// §7.1.1.2), and it lets us drop the inflate window between messages, so the inflate
    /// stream can be freed when the connection is idle. Clients compress slightly less.
    public var requestClientNoContextTakeover: Bool

    /// zlib compression level, 0 (store only) through 9 (best); out-of-range values are clamped.
    ///
    /// Default 6, zlib's own default: on small JSON messages levels 7–9 gain almost nothing
    /// and levels 1–3 lose several percent, while the CPU cost per small message is dominated
    /// by per-message setup rather than the level.
    public var compressionLevel: Int

    /// zlib memLevel, 1...9: the size of the hash table and of the block buffer; clamped.
    ///
    /// Default 4 (8 KiB instead of the 128 KiB of zlib's default 8): a 1024-symbol block
    /// buffer and 2048-entry hash table lose under 2 % of ratio on JSON messages of up to
    /// 64 KiB against memLevel 8, and nothing measurable below 4 KiB.
    public var memLevel: Int

    /// The largest window we deflate with, 8...15 (8 is deflated with 9, see `PerMessageDeflate`).
    ///
    /// Default 12 (4 KiB): JSON messages up to 4 KiB compress exactly as with 32 KiB, a
    /// 60 KiB message about 5 % worse, and the deflate stream needs 16 KiB for its window
    /// instead of 128 KiB. A client that asks for a smaller `server_max_window_bits` gets it.
    public var deflateWindowBits: Int

    /// The `client_max_window_bits` we answer when a client offers that parameter, 8...15.
    ///
    /// Default 12: the client then deflates with at most a 4 KiB window and we inflate with
    /// 4 KiB instead of 32 KiB, which costs nothing on requests under 4 KiB (with
    /// client_no_context_takeover the window never spans messages). A client that does not
    /// offer the parameter may use 15 bits, and we inflate its messages with 15.
    public var clientMaxWindowBits: Int

    /// Messages smaller than this many bytes are sent uncompressed.
    ///
    /// Default 128: permessage-deflate decides per message (RFC 7692 §6), and below about
    /// 128 bytes a JSON message without a shared window shrinks by only a few bytes (70 bytes
    /// become 63) while still costing a deflate reset and call.
    public var minimumMessageSize: Int

    /// Creates a policy; each default is documented on its property.
    public init(
        requestServerNoContextTakeover: Bool = true,
        requestClientNoContextTakeover: Bool = true,
        compressionLevel: Int = 6,
        memLevel: Int = 4,
        deflateWindowBits: Int = 12,
        clientMaxWindowBits: Int = 12,
        minimumMessageSize: Int = 128
    ) {
        self.requestServerNoContextTakeover = requestServerNoContextTakeover
        self.requestClientNoContextTakeover = requestClientNoContextTakeover
        self.compressionLevel = compressionLevel
        self.memLevel = memLevel
        self.deflateWindowBits = deflateWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.minimumMessageSize = minimumMessageSize
    }

    /// The documented defaults.
    public static let `default` = Self()
}
