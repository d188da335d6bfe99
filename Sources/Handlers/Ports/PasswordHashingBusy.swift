public import JSONRPC

/// Thrown by a ``PasswordHashing`` whose queue of waiting hashes is full.
///
/// Hashing is the one piece of work an anonymous caller can make the server do at will, and
/// each hash takes a core for about 100 ms: a queue that grew without bound would let a flood
/// of logins delay every real one by minutes. Past the queue's bound the call is refused at once
/// and the client told to come back shortly, like any other rate limit.
public struct PasswordHashingBusy: Error, Sendable, Hashable, RPCErrorConvertible {
    /// The wait a refused caller is told: about how long the hasher takes to work through a
    /// full queue at its default size and cost.
    public static let retryAfterMilliseconds = 1000

    public init() {}

    /// -32029 with `data.retryAfterMs`.
    public var rpcError: RPCError { .rateLimited(retryAfterMs: Self.retryAfterMilliseconds) }
}
