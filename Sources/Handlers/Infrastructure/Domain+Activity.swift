import JSON
import JSONRPC

extension Domain {
    /// ``writeOnce(_:method:requestKey:_:)`` for a change that logs activity: the body gets an
    /// ``ActivityRecorder`` for the caller at this call's time, and ``activityCommitted`` is
    /// called once the transaction has committed (not when it throws), and
    /// ``mailCommitted`` when it also put notification mail in the outbox (``pushCommitted``
    /// for pushes).
    func recordedWrite<R: Encodable & Sendable>(
        _ call: SignedInCall,
        method: String,
        requestKey: String?,
        _ body: @escaping @Sendable (any StoreWriter, ActivityRecorder) throws -> R
    ) async throws -> JSONValue {
        let actor = call.userID
        let now = clock()
        let outbox = NotificationOutbox(queue: mailQueue(at: now), pushes: pushOutbox(at: now))
        let result = try await writeOnce(call, method: method, requestKey: requestKey) { tx in
            try body(tx, ActivityRecorder(tx: tx, actor: actor, at: now, mail: outbox))
        }
        activityCommitted()
        if outbox.wroteMail { mailCommitted() }
        if outbox.pushes?.wrotePush == true { pushCommitted() }
        return result
    }
}
