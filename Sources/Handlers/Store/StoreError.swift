public import JSONRPC

/// A storage failure, classified so the domain can answer it; the underlying error (SQL text,
/// driver messages) is kept for the log and never reaches a client.
public struct StoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A uniqueness rule was broken; `field` names the API field at fault when one applies.
        case conflict(field: String?)
        /// The database cannot be reached, the pool timed out, or the store is closed: retry later.
        case unavailable
        /// Anything else: a bug or a broken invariant.
        case failure
    }

    public var kind: Kind
    public var underlying: (any Error)?

    public init(_ kind: Kind, underlying: (any Error)? = nil) {
        self.kind = kind
        self.underlying = underlying
    }

    /// The kind and the underlying error's own generic description: driver text can quote a
    /// statement's parameters (passwords, tokens, mail addresses), so it stays in ``debugDescription``.
    public var description: String {
        "StoreError.\(kind)" + (underlying.map { ": \($0)" } ?? "")
    }

    /// With the driver's details: for debug logs only, never sent to a client.
    public var debugDescription: String {
        "StoreError.\(kind)" + (underlying.map { ": " + String(reflecting: $0) } ?? "")
    }
}

extension StoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch kind {
        case .conflict(let field):
            return .conflict(field: field, message: field.map { "\($0) is already taken" } ?? "Conflict")
        case .unavailable:
            return .unavailable(underlying: self)
        case .failure:
            return .internalError(underlying: self)
        }
    }
}
