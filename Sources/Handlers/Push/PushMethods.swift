import ByteCoding
import JSON
public import JSONRPC

/// The `push.*` methods (protocol/README.md, "Web Push"; docs/push.md): the server's VAPID key
/// for `PushManager.subscribe`, and the caller's devices: register, list, remove.
///
/// Decisions where the issue left room:
/// - Registering an endpoint that is already registered updates it in place (same id, new
///   keys, label and device), also when it was another user's: a browser belongs to whoever is
///   signed in on it now, and nobody gets pushes meant for the previous person.
/// - Past ``PushSettings/maxSubscriptionsPerUser`` the oldest device is replaced, not the call
///   refused: people lose track of old browsers, and the newest is the one in hand.
/// - A device's `endpoint` is never shown back, only its push service's origin: it is a
///   capability URL.
/// - An app re-registering silently at start-up passes `refresh: true`, which never creates a
///   device: a device the person removed from another browser stays removed (-32004), instead
///   of coming back the next time the removed browser opens the app.
public enum PushMethods {
    struct SubscribeParams: Decodable, Sendable {
        struct Keys: Decodable, Sendable {
            var p256dh: String
            var auth: String
        }

        var endpoint: String
        var keys: Keys
        var expirationTime: Nullable<Double>?
        var label: Nullable<String>?
        /// True: only bring a device the caller still has up to date (an app's silent
        /// re-registration at start-up); -32004 when the caller has no device with this
        /// endpoint, so a device removed from another session stays removed.
        var refresh: Bool?
    }

    struct RemoveParams: Decodable, Sendable {
        var deviceId: Int64
    }

    struct PublicKeyResult: Encodable, Sendable {
        var publicKey: String
    }

    struct Device: Encodable, Sendable {
        var id: Int64
        var label: String
        var service: String
        var createdAt: Timestamp
        var lastUsedAt: Timestamp?
        var current: Bool

        init(_ record: PushSubscriptionRecord, sessionID: String) {
            self.id = record.id
            self.label = record.label
            self.service = PushEndpoint.origin(record.endpoint) ?? ""
            self.createdAt = record.createdAt
            self.lastUsedAt = record.lastUsedAt
            self.current = record.sessionID == sessionID
        }

        // `lastUsedAt: null` is part of the object.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(label, forKey: .label)
            try container.encode(service, forKey: .service)
            try container.encode(createdAt, forKey: .createdAt)
            if let lastUsedAt { try container.encode(lastUsedAt, forKey: .lastUsedAt) } else { try container.encodeNil(forKey: .lastUsedAt) }
            try container.encode(current, forKey: .current)
        }

        enum CodingKeys: String, CodingKey { case id, label, service, createdAt, lastUsedAt, current }
    }

    struct DevicesResult: Encodable, Sendable {
        var devices: [Device]
    }

    static let defaultLabel = "Browser"

    static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        guard let transport = domain.pushTransport else { return }
        registry.registerOpen("push.getPublicKey", params: NoParams.self) { _, _ in
            PublicKeyResult(publicKey: transport.applicationServerKey)
        }
        registry.registerSignedIn("push.subscribe", params: SubscribeParams.self) { params, call in
            try await subscribe(params, call, domain, transport)
        }
        registry.registerSignedIn("push.listDevices", params: NoParams.self) { _, call in
            let userID = call.userID
            let records = try await domain.store.read { tx in try tx.pushSubscriptions(userID: userID) }
            return DevicesResult(devices: records.map { Device($0, sessionID: call.principal.sessionID) })
        }
        registry.registerSignedIn("push.removeDevice", params: RemoveParams.self) { params, call in
            let id = try IDRules.id(params.deviceId, field: "deviceId")
            let userID = call.userID
            guard try await domain.store.write({ tx in try tx.deletePushSubscription(id: id, userID: userID) }) else {
                throw RPCError(.notFound, message: "No such device")
            }
            return AuthMethods.empty
        }
    }

    static func subscribe(_ params: SubscribeParams, _ call: SignedInCall, _ domain: Domain, _ transport: any PushTransport) async throws -> Device {
        let settings = domain.configuration.push
        let now = domain.clock()
        var errors = FieldErrors()
        if let problem = PushEndpoint.problem(params.endpoint, settings: settings) { errors.add("endpoint", problem) }
        let p256dh = key(params.keys.p256dh)
        if p256dh.map({ $0.count == 65 && transport.isValidSubscriptionKey($0) }) != true {
            errors.add("keys.p256dh", "must be an uncompressed P-256 public key in base64url (65 bytes)")
        }
        let auth = key(params.keys.auth)
        if auth?.count != 16 { errors.add("keys.auth", "must be a 16-byte secret in base64url") }
        var expiresAt: Timestamp?
        switch params.expirationTime {
        case nil, .null: break
        case .value(let ms):
            if ms.isFinite, ms > Double(now.milliseconds), ms < 1e15 {
                expiresAt = Timestamp(milliseconds: Int64(ms))
            } else {
                errors.add("expirationTime", "must be null or a time in the future (milliseconds since 1970)")
            }
        }
        var label = defaultLabel
        switch params.label {
        case nil, .null: break
        case .value(let text):
            let trimmed = TextRules.trimmed(text)
            if TextRules.length(trimmed) > settings.maxLabelLength {
                errors.add("label", "must be at most \(settings.maxLabelLength) characters")
            } else if TextRules.hasForbiddenControl(trimmed, allowNewlineAndTab: false) {
                errors.add("label", "must not contain control characters")
            } else if !trimmed.isEmpty {
                label = trimmed
            }
        }
        try errors.throwIfAny()
        let userID = call.userID
        let sessionID = call.principal.sessionID
        let endpoint = params.endpoint
        let (finalLabel, finalExpiry) = (label, expiresAt)
        let refresh = params.refresh == true
        let (record, _) = try await domain.store.write { tx in
            if refresh, try tx.pushSubscription(endpoint: endpoint)?.userID != userID {
                throw RPCError(.notFound, message: "No such device")
            }
            return try tx.putPushSubscription(
                userID: userID, endpoint: endpoint, p256dh: p256dh!, auth: auth!, label: finalLabel, sessionID: sessionID,
                expiresAt: finalExpiry, at: now, maxPerUser: settings.maxSubscriptionsPerUser)
        }
        return Device(record, sessionID: sessionID)
    }

    /// Base64url as browsers send it (unpadded; padding tolerated).
    private static func key(_ text: String) -> [UInt8]? {
        var trimmed = Substring(text)
        while trimmed.hasSuffix("=") { trimmed = trimmed.dropLast() }
        return Base64URL.decode(Array(trimmed.utf8))
    }
}
