import ArgumentParser
import Credentials
import Handlers
import HTTPEdge
import Logging
import RPCServer
import WebSocketCore
import NIOCore
import RESTBridge
import SMTPMail
import WebPush

/// The resolved settings of `faros serve`: each flag, else its `FAROS_*` variable, else the default.
struct Settings {
    enum LogFormat: String { case text, json }

    /// The listener and its HTTP timeouts.
    var edge = HTTPEdgeConfiguration()
    /// The JSON-RPC endpoints.
    var server = ServerConfiguration()
    var storage: StorageSettings
    var eventLoopThreads = System.coreCount
    /// From the setting, as bytes; nil: generated once and kept in the data directory.
    var jwtSecret: [UInt8]?
    var tokenTTL: Duration = .seconds(3600)
    var rateLimits = true
    var mailFrom: String
    /// No `--public-url` and `--port 0`: links are fixed once the port is bound.
    var derivesPublicURL = false
    /// `smtp://` or `smtps://`; nil: mail goes to `DATA_DIR/outbox`.
    var smtp: SMTPConfiguration?
    var passwordCost = PasswordCost.default
    /// `redis://…`; nil: the in-process event bus and rate limits.
    var redisURL: String?
    var events = DomainConfiguration.Events()
    var presence = PresenceService.Settings()
    /// Web Push in the domain: TTL, http on loopback.
    var push = PushSettings()
    /// From the setting (base64url scalar); nil: generated once and kept in the data directory.
    var vapidPrivateKey: String?
    /// `sub` of VAPID tokens: `mailto:` or `https:`.
    var vapidSubject: String
    var quotas = DomainConfiguration.Quotas()
    var rest = RESTConfiguration()
    /// The S3 bucket for files; nil keeps them on local disk (`DATA_DIR/files`).
    var s3: S3Settings?

    struct S3Settings {
        var endpoint: String
        var region: String
        var bucket: String
        var accessKeyID: String
        var secretAccessKey: String
        var pathStyle: Bool
    }

    /// Base of mail links, without a trailing slash.
    var publicURL: String {
        var url = server.publicURL ?? "http://localhost:\(edge.port)"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Host part of generated `Message-ID`s: the sender's domain.
    var mailDomain: String {
        MailOutboxSender.address(mailFrom).split(separator: "@").last.map(String.init) ?? "localhost"
    }

    var logFormat: LogFormat { storage.logFormat }
    var logLevel: Logger.Level { storage.logLevel }

    init(command: ServeCommand, environment: Environment) throws {
        let reader = SettingReader(environment: environment)
        self.storage = try StorageSettings(options: command.storage, environment: environment)

        self.edge.host = reader.string(command.host, "FAROS_HOST") ?? self.edge.host
        self.edge.port = try reader.value(command.port.map(String.init), "FAROS_PORT", "a port number 0-65535") {
            Int($0).flatMap { (0...65535).contains($0) ? $0 : nil }
        } ?? self.edge.port
        self.server.enableEcho = try reader.bool(command.enableEcho, "FAROS_ENABLE_ECHO") ?? false
        if try reader.bool(command.permessageDeflate, "FAROS_PERMESSAGE_DEFLATE") == false {
            self.server.deflate = nil
        }

        let publicURL = reader.string(command.publicURL, "FAROS_PUBLIC_URL")
        if let publicURL {
            let scheme = publicURL.prefix { $0 != ":" }.lowercased()
            guard scheme == "http" || scheme == "https", WebSocketHandshake.normalizedOrigin(publicURL) != nil else {
                throw ValidationError("--public-url / FAROS_PUBLIC_URL: expected an http:// or https:// URL, got '\(publicURL)'")
            }
            self.server.publicURL = publicURL
        } else {
            let host = ["0.0.0.0", "::", ""].contains(self.edge.host) ? "localhost" : self.edge.host
            self.server.publicURL = "http://\(HTTPEdge.urlHost(host)):\(self.edge.port)"
            self.derivesPublicURL = self.edge.port == 0
        }
        if let origins = reader.string(command.allowedOrigins, "FAROS_ALLOWED_ORIGINS") {
            for origin in SettingValue.list(origins) {
                guard let normalized = WebSocketHandshake.normalizedOrigin(origin) else {
                    throw ValidationError("--allowed-origins / FAROS_ALLOWED_ORIGINS: '\(origin)' is not an origin like https://app.example.com")
                }
                self.server.allowedOrigins.insert(normalized)
            }
        }

        if let secret = reader.string(command.jwtSecret, "FAROS_JWT_SECRET") {
            guard secret.utf8.count >= TokenSigner.minimumSecretBytes else {
                throw ValidationError("--jwt-secret / FAROS_JWT_SECRET: expected at least \(TokenSigner.minimumSecretBytes) bytes (e.g. `openssl rand -hex 32`), got \(secret.utf8.count)")
            }
            self.jwtSecret = Array(secret.utf8)
        }
        self.tokenTTL = try reader.value(command.tokenTTL, "FAROS_TOKEN_TTL", "a duration from 1m to 30d, like 1h") {
            SettingValue.duration($0).flatMap { $0 >= .seconds(60) && $0 <= .seconds(30 * 86400) ? $0 : nil }
        } ?? self.tokenTTL
        self.rateLimits = try reader.bool(command.rateLimits, "FAROS_RATE_LIMITS") ?? true
        if let list = reader.string(command.trustedProxies, "FAROS_TRUSTED_PROXIES") {
            switch TrustedProxies.parse(list: list) {
            case .success(let proxies): self.edge.trustedProxies = proxies
            case .failure(let bad):
                throw ValidationError("--trusted-proxies / FAROS_TRUSTED_PROXIES: '\(bad.text)' is not a CIDR block like 10.0.0.0/8 or ::1")
            }
        }
        let mailHost = ["0.0.0.0", "::", "", "127.0.0.1", "::1"].contains(self.edge.host) ? "localhost" : self.edge.host
        self.mailFrom = reader.string(command.mailFrom, "FAROS_MAIL_FROM") ?? "faros@\(mailHost)"
        guard Self.isMailbox(self.mailFrom) else {
            throw ValidationError("--mail-from / FAROS_MAIL_FROM: expected an address like faros@example.com or 'Faros <faros@example.com>', got '\(self.mailFrom)'")
        }
        self.vapidSubject = reader.string(command.vapidSubject, "FAROS_VAPID_SUBJECT") ?? "mailto:" + MailOutboxSender.address(self.mailFrom)
        do {
            try VAPIDSigner.validate(subject: self.vapidSubject)
        } catch {
            throw ValidationError("--vapid-subject / FAROS_VAPID_SUBJECT: \(error), got '\(self.vapidSubject)'")
        }
        self.vapidPrivateKey = reader.string(command.vapidPrivateKey, "FAROS_VAPID_PRIVATE_KEY")
        if let ttl = try reader.value(command.pushTTL, "FAROS_PUSH_TTL", "a duration from 1m to 28d, like 24h", {
            SettingValue.duration($0).flatMap { $0 >= .seconds(60) && $0 <= .seconds(28 * 86400) ? $0 : nil }
        }) {
            self.push.ttlSeconds = Int(ttl.components.seconds)
        }
        self.push.allowHTTPOnLoopback = try reader.value(command.pushAllowHTTP, "FAROS_PUSH_ALLOW_HTTP", "loopback or off") {
            switch $0 {
            case "loopback": true
            case "off": false
            default: nil
            }
        } ?? false
        let smtpTimeout = try reader.value(command.smtpTimeout, "FAROS_SMTP_TIMEOUT", "a duration from 1s to 10m, like 60s") {
            SettingValue.duration($0).flatMap { $0 >= .seconds(1) && $0 <= .seconds(600) ? $0 : nil }
        }
        if let url = reader.string(command.smtpURL, "FAROS_SMTP_URL") {
            var smtp: SMTPConfiguration
            do {
                smtp = try SMTPConfiguration(url: url)
            } catch {
                throw ValidationError("--smtp-url / FAROS_SMTP_URL: \(error)")
            }
            if let caFile = reader.string(command.smtpCAFile, "FAROS_SMTP_CA_FILE") { smtp.caFile = caFile }
            if let smtpTimeout {
                smtp.timeout = smtpTimeout
                smtp.connectTimeout = min(smtp.connectTimeout, smtpTimeout)
            }
            self.smtp = smtp
        }
        self.passwordCost = try reader.value(command.passwordCost.map(String.init), "FAROS_PASSWORD_COST", "an integer 1-11") {
            Int($0).flatMap(PasswordCost.init(rawValue:))
        } ?? .default

        self.server.rpc.maxMessageBytes = try reader.bytes(command.maxMessageBytes, "FAROS_MAX_MESSAGE_BYTES", range: 125...(64 << 20))
            ?? self.server.rpc.maxMessageBytes
        self.server.rpc.maxBatch = try reader.value(command.maxBatch.map(String.init), "FAROS_MAX_BATCH", "an integer 1-10000") {
            Int($0).flatMap { (1...10000).contains($0) ? $0 : nil }
        } ?? self.server.rpc.maxBatch
        if let rate = try reader.value(command.callsPerSecond, "FAROS_CALLS_PER_SECOND", "RATE or RATE/BURST, e.g. 50/100", Self.parseRate) {
            (self.server.rpc.callsPerSecond, self.server.rpc.callBurst) = rate
        }
        self.server.rpc.maxInflight = try reader.value(command.maxInflight.map(String.init), "FAROS_MAX_INFLIGHT", "an integer 1-10000") {
            Int($0).flatMap { (1...10000).contains($0) ? $0 : nil }
        } ?? self.server.rpc.maxInflight
        self.server.rpc.outboundBufferBytes = try reader.bytes(command.outboundBufferBytes, "FAROS_OUTBOUND_BUFFER_BYTES", range: 4096...(1 << 30))
            ?? self.server.rpc.outboundBufferBytes
        self.server.rpc.maxResponseBytes = try reader.bytes(command.maxResponseBytes, "FAROS_MAX_RESPONSE_BYTES", range: 4096...(1 << 30))
            ?? self.server.rpc.maxResponseBytes
        self.server.rpc.anonymousMaxResponseBytes = try reader.bytes(
            command.anonymousMaxResponseBytes, "FAROS_ANONYMOUS_MAX_RESPONSE_BYTES", range: 4096...(1 << 30)
        ) ?? self.server.rpc.anonymousMaxResponseBytes

        self.edge.handshakeTimeout = try reader.duration(command.handshakeTimeout, "FAROS_HANDSHAKE_TIMEOUT") ?? self.edge.handshakeTimeout
        self.server.timeouts.idle = try reader.duration(command.idleTimeout, "FAROS_IDLE_TIMEOUT") ?? self.server.timeouts.idle
        self.edge.shutdownGrace = try reader.duration(command.shutdownGrace, "FAROS_SHUTDOWN_GRACE", allowZero: true)
            ?? self.edge.shutdownGrace

        self.eventLoopThreads = try reader.value(command.eventLoopThreads.map(String.init), "FAROS_EVENT_LOOP_THREADS", "an integer 1-256") {
            Int($0).flatMap { (1...256).contains($0) ? $0 : nil }
        } ?? self.eventLoopThreads

        if let url = reader.string(command.redisURL, "FAROS_REDIS_URL") {
            let scheme = url.prefix { $0 != ":" }.lowercased()
            if scheme == "rediss" {
                throw ValidationError("--redis-url / FAROS_REDIS_URL: rediss:// (TLS) is not supported: Debian's hiredis is built without TLS; reach Redis over a private network or a TLS tunnel (stunnel, spiped) and give its redis:// address")
            }
            guard scheme == "redis", url.hasPrefix("\(scheme)://") else {
                throw ValidationError("--redis-url / FAROS_REDIS_URL: expected redis://[:password@]host[:port][/db], got '\(SettingValue.redactingPassword(url))'")
            }
            self.redisURL = url
        }
        if let window = try reader.value(command.replayWindow, "FAROS_REPLAY_WINDOW", "a duration from 1m to 30d, like 24h", {
            SettingValue.duration($0).flatMap { $0 >= .seconds(60) && $0 <= .seconds(30 * 86400) ? $0 : nil }
        }) {
            self.events.replayWindowMilliseconds = Int64(window.components.seconds * 1000)
        }
        if let ttl = try reader.value(command.presenceTTL, "FAROS_PRESENCE_TTL", "a duration from 3s to 10m, like 30s", {
            SettingValue.duration($0).flatMap { $0 >= .seconds(3) && $0 <= .seconds(600) ? $0 : nil }
        }) {
            self.presence.ttlMilliseconds = Int64(ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000)
        }
        if let lifetime = try reader.value(command.presenceStateLifetime, "FAROS_PRESENCE_STATE_LIFETIME", "a duration from 1s to 10m, like 10s", {
            SettingValue.duration($0).flatMap { $0 >= .seconds(1) && $0 <= .seconds(600) ? $0 : nil }
        }) {
            self.presence.stateLifetimeMilliseconds = Int64(lifetime.components.seconds * 1000 + lifetime.components.attoseconds / 1_000_000_000_000_000)
        }
        self.events.replayMaxEvents = try reader.value(command.replayMaxEvents.map(String.init), "FAROS_REPLAY_MAX_EVENTS", "an integer 1-1000000") {
            Int($0).flatMap { (1...1_000_000).contains($0) ? $0 : nil }
        } ?? self.events.replayMaxEvents
        self.events.replayMaxBytes = try reader.bytes(command.replayMaxBytes, "FAROS_REPLAY_MAX_BYTES", range: (64 << 10)...(1 << 30))
            ?? self.events.replayMaxBytes
        self.events.maxTopics = try reader.value(command.maxTopics.map(String.init), "FAROS_MAX_TOPICS", "an integer 1-100000") {
            Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil }
        } ?? self.events.maxTopics
        self.quotas.commentsPerUser = try reader.value(command.maxCommentsPerUser.map(String.init), "FAROS_MAX_COMMENTS_PER_USER", "an integer 1-100000000") {
            Int($0).flatMap { (1...100_000_000).contains($0) ? $0 : nil }
        } ?? self.quotas.commentsPerUser
        self.quotas.sharesPerUser = try reader.value(command.maxSharesPerUser.map(String.init), "FAROS_MAX_SHARES_PER_USER", "an integer 1-100000000") {
            Int($0).flatMap { (1...100_000_000).contains($0) ? $0 : nil }
        } ?? self.quotas.sharesPerUser
        self.quotas.storedResultsPerUser = try reader.value(
            command.maxStoredResultsPerUser.map(String.init), "FAROS_MAX_STORED_RESULTS_PER_USER", "an integer 1-100000000"
        ) {
            Int($0).flatMap { (1...100_000_000).contains($0) ? $0 : nil }
        } ?? self.quotas.storedResultsPerUser

        if let bytes = try reader.bytes(command.maxUploadBytes, "FAROS_MAX_UPLOAD_BYTES", range: 1...(1 << 40)) {
            self.rest.maxUploadBytes = Int64(bytes)
        }
        self.rest.allowedOrigins = self.server.allowedOrigins
        // One holder for both transports, so the bound port reaches both (`--port 0`).
        let serverOrigin = ServerOrigin(url: self.server.publicURL)
        self.server.serverOrigin = serverOrigin
        self.rest.serverOrigin = serverOrigin
        self.rest.bodyIdleTimeout = self.edge.handshakeTimeout
        self.rest.uploadTimeout = try reader.duration(command.uploadTimeout, "FAROS_UPLOAD_TIMEOUT") ?? self.rest.uploadTimeout
        self.rest.uploadMinBytesPerSecond = try reader.bytes(command.uploadMinRate, "FAROS_UPLOAD_MIN_RATE", range: 0...(1 << 30))
            ?? self.rest.uploadMinBytesPerSecond
        self.s3 = try S3Settings(command.s3, reader: reader)
    }

    /// `50` (burst twice the rate), `50/100`, or `0`/`off` (no limit).
    /// `local@domain` or `Display Name <local@domain>`: one address, no white space or control
    /// characters in it, nothing that could end a header line.
    static func isMailbox(_ text: String) -> Bool {
        var address = Substring(text)
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            address = text[text.index(after: open)..<text.index(before: text.endIndex)]
            if text[..<open].unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "<" || $0 == ">" }) {
                return false
            }
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
    }

    static func parseRate(_ text: String) -> (Double, Double)? {
        if SettingValue.bool(text) == false { return (0, 0) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let rate = Double(parts[0]), rate >= 0, rate.isFinite else { return nil }
        switch parts.count {
        case 1: return (rate, max(rate * 2, 1))
        case 2:
            guard let burst = Double(parts[1]), burst >= 1, burst.isFinite else { return nil }
            return (rate, burst)
        default: return nil
        }
    }
}

/// Reads one setting from its flag or its variable and turns a bad value into a clear error naming both.
struct SettingReader {
    var environment: Environment

    func string(_ flag: String?, _ variable: String) -> String? {
        flag ?? self.environment[variable]
    }

    func value<T>(_ flag: String?, _ variable: String, _ expected: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = self.string(flag, variable) else { return nil }
        guard let value = parse(text) else {
            throw ValidationError("\(Self.names(variable)): expected \(expected), got '\(text)'")
        }
        return value
    }

    func bool(_ flag: Bool?, _ variable: String) throws -> Bool? {
        if let flag { return flag }
        return try self.value(nil, variable, "on or off", SettingValue.bool)
    }

    func bytes(_ flag: String?, _ variable: String, range: ClosedRange<Int>) throws -> Int? {
        try self.value(flag, variable, "a size in bytes (\(range.lowerBound)-\(range.upperBound); KiB, MiB allowed)") {
            SettingValue.bytes($0).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    func duration(_ flag: String?, _ variable: String, allowZero: Bool = false) throws -> Duration? {
        try self.value(flag, variable, "a duration like 10s, 500ms or 1h") {
            SettingValue.duration($0).flatMap { allowZero || $0 > .zero ? $0 : nil }
        }
    }

    /// `FAROS_MAX_BATCH` -> `--max-batch / FAROS_MAX_BATCH`.
    static func names(_ variable: String) -> String {
        let flag = variable.dropFirst("FAROS_".count).lowercased().replacingAll("_", with: "-")
        return "--\(flag) / \(variable)"
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: Character) -> String {
        String(self.map { $0 == target ? replacement : $0 })
    }
}
