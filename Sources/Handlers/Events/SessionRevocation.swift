public import JSON
import JSONRPC

/// A `session.revoked` log entry: which live sessions must be signed out, on every instance.
///
/// The instance that handled the call signs its own connections out at once; the log entry
/// reaches the others (and, harmlessly, the same one again: a session already signed out is
/// not signed out twice). Being in the log rather than only on the bus, it survives a Redis
/// outage like every other event.
public struct SessionRevocation: Sendable, Hashable {
    public enum Scope: Sendable, Hashable {
        /// These server-side sessions.
        case sessions([String])
        /// Every session of the user, except one (the caller's own, on a password change).
        case user(Int64, except: String?)
    }

    public var scope: Scope
    public var reason: SignOutReason

    public init(scope: Scope, reason: SignOutReason) {
        self.scope = scope
        self.reason = reason
    }

    /// The entry's stored `data`.
    public var data: JSONValue {
        switch self.scope {
        case .sessions(let ids):
            ["sessionIds": .array(ids.map { .string($0) }), "reason": .string(self.reason.rawValue)]
        case .user(let userID, let except):
            ["userId": .number(JSONNumber(userID)), "except": except.map { .string($0) } ?? .null, "reason": .string(self.reason.rawValue)]
        }
    }

    public init?(_ data: JSONValue) {
        guard let reason = data["reason"]?.stringValue.flatMap(SignOutReason.init(rawValue:)) else { return nil }
        if let ids = data["sessionIds"]?.arrayValue {
            self.init(scope: .sessions(ids.compactMap(\.stringValue)), reason: reason)
        } else if let userID = data["userId"]?.numberValue?.int64 {
            self.init(scope: .user(userID, except: data["except"]?.stringValue), reason: reason)
        } else {
            return nil
        }
    }

    func apply(to sessions: SessionDirectory) {
        switch self.scope {
        case .sessions(let ids): sessions.revoke(sessionIDs: ids, reason: self.reason)
        case .user(let userID, let except): sessions.revokeUser(userID, except: except, reason: self.reason)
        }
    }
}
