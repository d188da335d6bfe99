/// The permessage-deflate parameters agreed with one client in the opening handshake (RFC 7692 §7.1).
///
/// "Server" is us: the server deflates what it sends and the client inflates it; the client
/// deflates what it sends and we inflate it. Values that were not negotiated hold the RFC's
/// defaults (context takeover allowed, 15-bit windows).
public struct PerMessageDeflateParameters: Sendable, Hashable {
    /// We reset our deflate window after each message (RFC 7692 §7.1.1.1).
    public var serverNoContextTakeover: Bool
    /// The client resets its deflate window after each message, so we may reset our inflate
    /// window too (RFC 7692 §7.1.1.2).
    public var clientNoContextTakeover: Bool
    /// The largest LZ77 window (as a power of two, 8...15) we may use to deflate: the client
    /// inflates with a window this big (RFC 7692 §7.1.2.1).
    public var serverMaxWindowBits: Int
    /// The largest LZ77 window (8...15) the client uses to deflate, so the window we inflate
    /// with (RFC 7692 §7.1.2.2).
    public var clientMaxWindowBits: Int

    /// Creates parameters; the defaults are what RFC 7692 assumes when a parameter is absent.
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }
}
