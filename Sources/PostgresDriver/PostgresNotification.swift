/// A NOTIFY received on a channel this connection LISTENs to.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String

    public init(channel: String, payload: String) {
        self.channel = channel
        self.payload = payload
    }
}
