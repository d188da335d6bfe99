import JSON
import JSONRPC

/// A call from a signed-in session: the connection and who it acts as, read once when the call
/// starts (a sign-out racing the call does not change who the call acts as).
public struct SignedInCall: Sendable {
    public let client: ClientSession
    public let principal: Principal

    public var userID: Int64 { principal.userID }
}

extension MethodRegistry where Context == ClientSession {
    /// Registers a method open to anonymous sessions (`auth.*`).
    mutating func registerOpen<P: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String,
        params: P.Type,
        _ handler: @escaping @Sendable (P, ClientSession) async throws -> R
    ) {
        self.register(name, params: params, handler)
    }

    /// Registers a method for signed-in sessions: anonymous callers get -32001 before their
    /// params are even decoded.
    mutating func registerSignedIn<P: Decodable & SendableMetatype, R: Encodable & SendableMetatype>(
        _ name: String,
        params: P.Type,
        _ handler: @escaping @Sendable (P, SignedInCall) async throws -> R
    ) {
        self.register(name) { (raw: JSONValue?, client: ClientSession) async throws -> JSONValue in
            guard let principal = client.principal else { throw RPCError.signInRequired }
            let params = try Self.decode(P.self, raw)
            return try Self.encode(try await handler(params, SignedInCall(client: client, principal: principal)))
        }
    }
}

extension RPCError {
    /// -32001 for a call that needs a signed-in session.
    static var signInRequired: RPCError { RPCError(.unauthenticated, message: "Not signed in") }
}
