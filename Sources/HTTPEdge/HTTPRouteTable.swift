public import NIOCore

/// What the server answers, by path: the one place a reader learns it.
///
/// Upgrade paths (the WebSocket endpoints) are matched exactly; then each static responder (the
/// web app's files) is asked in turn; every other request goes to the responder, a channel
/// handler added to the connection at its first such request. Without one, the rest is a JSON 404.
public struct HTTPRouteTable: Sendable {
    public typealias ResponderFactory = @Sendable () -> any ChannelHandler

    private(set) var upgrades: [String: any HTTPUpgrader] = [:]
    private(set) var responder: ResponderFactory?
    private(set) var staticResponders: [any HTTPStaticResponder] = []

    public init() {}

    /// `GET path` with `Upgrade:` is handed to `upgrader`.
    public mutating func upgrade(_ path: String, to upgrader: any HTTPUpgrader) {
        self.upgrades[path] = upgrader
    }

    /// Requests `responder` answers (it says which) are answered from memory by the edge.
    public mutating func serve(_ responder: any HTTPStaticResponder) {
        self.staticResponders.append(responder)
    }

    /// Every request that is not an upgrade path nor a static responder's goes to a handler made by `factory`, one per
    /// connection. It reads ``HTTPEdgeRequestPart``s and writes `HTTPServerResponsePart`s; an
    /// answer whose head says `Connection: close` ends the connection once it is written.
    public mutating func respond(with factory: @escaping ResponderFactory) {
        self.responder = factory
    }
}
