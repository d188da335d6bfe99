public import JSON
import JSONRPC

extension Domain {
    /// Runs a mutating call's transaction at most once per `requestKey`.
    ///
    /// Without a key, `body` runs in one write transaction and its result is returned. With one
    /// (1–64 characters, no control characters), the result is stored in the same transaction
    /// as the change; a repeat by the same user within the key's lifetime (24 h) returns that
    /// stored result without running `body` again. A key first used with another method is
    /// -32602 naming `requestKey`. A user with `quotas.storedResultsPerUser` live stored results
    /// gets -32013 for a new key (the call does not run). Two concurrent calls with one key: one commits, the other's
    /// insert of the key conflicts, it rolls back and answers the winner's result.
    public func writeOnce<R: Encodable & Sendable>(
        _ call: SignedInCall,
        method: String,
        requestKey: String?,
        _ body: @escaping @Sendable (any StoreWriter) throws -> R
    ) async throws -> JSONValue {
        guard let requestKey else {
            let result = try await store.write(body)
            return try JSONValueEncoder().encode(result)
        }
        try Self.validateRequestKey(requestKey)
        let userID = call.userID
        let now = clock()
        let since = now.adding(milliseconds: -configuration.requestKeyLifetimeMilliseconds)
        let quota = configuration.quotas.storedResultsPerUser
        do {
            // The answer is the value in hand; only a replay parses the stored text.
            return try await store.write { tx in
                if let stored = try tx.storedResult(userID: userID, requestKey: requestKey, since: since) {
                    throw Replay(stored: stored)
                }
                // Over the quota the call is refused, not run without its key: the client asked
                // for a retry-safe write and would not get one.
                try Self.checkQuota(try tx.storedResultCount(userID: userID, since: since), limit: quota, of: "stored request results")
                let value = try JSONValueEncoder().encode(try body(tx))
                let text = String(decoding: JSONWriter.serialize(value), as: UTF8.self)
                try tx.saveResult(
                    userID: userID,
                    requestKey: requestKey,
                    result: StoredResult(method: method, result: text, createdAt: now)
                )
                return value
            }
        } catch let replay as Replay {
            return try Self.answer(replay.stored, method: method)
        } catch let error as StoreError where error.kind == .conflict(field: "requestKey") {
            let stored = try await store.read { try $0.storedResult(userID: userID, requestKey: requestKey, since: since) }
            guard let stored else { throw error }
            return try Self.answer(stored, method: method)
        }
    }

    /// `requestKey`, when given, checked with the other params so one -32602 names every field
    /// at fault.
    static func validateRequestKey(_ key: String?, into errors: inout FieldErrors) {
        if let key {
            errors.check { () throws(RPCError) in try validateRequestKey(key) }
        }
    }

    /// The one rule on a `requestKey`: 1–64 characters, no control characters.
    static func validateRequestKey(_ key: String) throws(RPCError) {
        let length = TextRules.length(key)
        guard (1...64).contains(length) else {
            throw .invalidParams(field: "requestKey", message: "must be 1 to 64 characters")
        }
        guard !TextRules.hasForbiddenControl(key, allowNewlineAndTab: false) else {
            throw .invalidParams(field: "requestKey", message: "must not contain control characters")
        }
    }

    private static func answer(_ stored: StoredResult, method: String) throws -> JSONValue {
        guard stored.method == method else {
            throw RPCError.invalidParams(field: "requestKey", message: "was already used for \(stored.method)")
        }
        return try parse(stored.result)
    }

    private static func parse(_ text: String) throws -> JSONValue {
        do {
            return try JSONParser().parse(Array(text.utf8))
        } catch {
            throw RPCError.internalError(underlying: error)
        }
    }
}

/// Thrown inside a transaction to roll it back and answer a stored result instead.
private struct Replay: Error {
    var stored: StoredResult
}
