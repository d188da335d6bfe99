import JSON

/// A parsed JSON-RPC message, ready for ``RPCEngine/execute(_:context:admission:)``.
///
/// Parsing and executing are separate steps so the server can look at ``callCount`` (for its
/// in-flight and rate accounting) before it commits to running anything.
public struct RPCIncoming: Sendable {
    /// One request or notification, checked against the JSON-RPC envelope rules.
    struct Call: Sendable {
        /// nil for a notification.
        var id: RPCID?
        var method: String
        /// nil when the member is absent; otherwise an object or an array.
        var params: JSONValue?
    }

    /// One element of a message: a call to run, or an invalid request answered without running.
    enum Entry: Sendable {
        case call(Call)
        case invalid(id: RPCID, error: RPCError)
    }

    enum Message: Sendable {
        /// Answered by one error object with id null, without running anything: a parse error,
        /// an empty batch, a batch over the limit.
        case immediate(RPCError)
        case single(Entry)
        case batch([Entry])
    }

    let message: Message

    /// How many calls (requests and notifications) the message will run: 1 for a well-formed
    /// single call, the number of well-formed members for a batch, 0 when it is answered without
    /// running anything (parse error, invalid request, empty or oversized batch).
    public let callCount: Int

    /// Whether the message is a batch (an array), including an empty or oversized one.
    public var isBatch: Bool {
        switch message {
        case .batch: true
        case .single: false
        case .immediate(let error): error.code != .parseError
        }
    }

    init(_ message: Message) {
        self.message = message
        switch message {
        case .immediate: callCount = 0
        case .single(.call): callCount = 1
        case .single(.invalid): callCount = 0
        case .batch(let entries):
            callCount = entries.reduce(0) { count, entry in
                if case .call = entry { return count + 1 }
                return count
            }
        }
    }
}
