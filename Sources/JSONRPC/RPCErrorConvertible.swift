/// An error type that knows how a client should see it.
///
/// Domain errors adopt it so that handlers can throw them as they are; the engine answers with
/// ``rpcError`` instead of an internal error.
public protocol RPCErrorConvertible: Error {
    /// The error as the client sees it.
    var rpcError: RPCError { get }
}
