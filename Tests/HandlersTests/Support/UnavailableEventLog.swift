import Handlers

/// An event log that is never reachable, for test stores that refuse every call.
protocol UnavailableEventLog: EventLog {
    /// Called on every attempt, before it fails (counting stores count it).
    func refused()
}

extension UnavailableEventLog {
    func refused() {}
    func headSeq() async throws -> Int64 { refused(); throw StoreError(.unavailable) }
    func sequencePending(limit: Int) async throws -> [LoggedEvent] { refused(); throw StoreError(.unavailable) }
    func events(after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] { refused(); throw StoreError(.unavailable) }
    func replay(userID: Int64, taskIDs: [Int64]?, after: Int64, through: Int64, limit: Int) async throws -> [LoggedEvent] {
        refused()
        throw StoreError(.unavailable)
    }
    func audience(setID: Int64) async throws -> [LoggedEvent.Recipient] { refused(); throw StoreError(.unavailable) }
    func eventTime(seq: Int64) async throws -> Timestamp? { refused(); throw StoreError(.unavailable) }
}
