import ArgumentParser
import Testing

@testable import Faros

struct SettingsTests {
    static func settings(_ arguments: [String], env: [String: String] = [:]) throws -> Settings {
        let command = try ServeCommand.parse(arguments)
        return try Settings(command: command, environment: Environment(values: env))
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let settings = try Self.settings([])
        #expect(settings.edge.host == "127.0.0.1")
        #expect(settings.edge.port == 8080)
        #expect(settings.server.publicURL == "http://127.0.0.1:8080")
        #expect(settings.server.enableEcho == false)
        #expect(settings.server.rpc.maxMessageBytes == 1 << 20)
        #expect(settings.server.rpc.maxBatch == 50)
        #expect(settings.server.rpc.callsPerSecond == 50)
        #expect(settings.server.rpc.callBurst == 100)
        #expect(settings.server.rpc.maxInflight == 32)
        #expect(settings.server.rpc.outboundBufferBytes == 4 << 20)
        #expect(settings.server.rpc.maxResponseBytes == 4 << 20)
        #expect(settings.server.rpc.anonymousMaxResponseBytes == 128 << 10)
        #expect(settings.events.replayMaxBytes == 2 << 20)
        #expect(settings.edge.handshakeTimeout == .seconds(10))
        #expect(settings.server.timeouts.idle == .seconds(60))
        #expect(settings.edge.shutdownGrace == .seconds(10))
        #expect(settings.server.deflate != nil)
        #expect(settings.logFormat == .text)
        #expect(settings.logLevel == .info)
        #expect(settings.rest.uploadTimeout == .seconds(1800))
        #expect(settings.rest.uploadMinBytesPerSecond == 1024)
    }

    @Test func pushSettings() throws {
        let defaults = try Self.settings([])
        #expect(defaults.push.ttlSeconds == 86_400)
        #expect(!defaults.push.allowHTTPOnLoopback)
        #expect(defaults.vapidSubject == "mailto:faros@localhost")
        #expect(defaults.vapidPrivateKey == nil)
        let set = try Self.settings(["--push-ttl", "2h"], env: [
            "FAROS_PUSH_ALLOW_HTTP": "loopback", "FAROS_VAPID_SUBJECT": "https://ops.example.com", "FAROS_PUSH_TTL": "1h",
        ])
        #expect(set.push.ttlSeconds == 7_200)
        #expect(set.push.allowHTTPOnLoopback)
        #expect(set.vapidSubject == "https://ops.example.com")
    }

    @Test func uploadPaceSettings() throws {
        let settings = try Self.settings(["--upload-timeout", "90s"], env: ["FAROS_UPLOAD_MIN_RATE": "0"])
        #expect(settings.rest.uploadTimeout == .seconds(90))
        #expect(settings.rest.uploadMinBytesPerSecond == 0)
        #expect(throws: (any Error).self) { try Self.settings(["--upload-timeout", "0s"]) }
        #expect(throws: (any Error).self) { try Self.settings([], env: ["FAROS_UPLOAD_MIN_RATE": "fast"]) }
    }

    @Test func variablesApplyAndFlagsWin() throws {
        let env = [
            "FAROS_PORT": "9000", "FAROS_HOST": "0.0.0.0", "FAROS_ENABLE_ECHO": "yes",
            "FAROS_MAX_MESSAGE_BYTES": "2MiB", "FAROS_IDLE_TIMEOUT": "1m30s", "FAROS_CALLS_PER_SECOND": "10/20",
            "FAROS_LOG_FORMAT": "json", "FAROS_ALLOWED_ORIGINS": "https://App.Example.com:443, http://localhost:3000",
        ]
        let fromEnv = try Self.settings([], env: env)
        #expect(fromEnv.edge.port == 9000)
        #expect(fromEnv.server.publicURL == "http://localhost:9000")
        #expect(fromEnv.server.enableEcho)
        #expect(fromEnv.server.rpc.maxMessageBytes == 2 << 20)
        #expect(fromEnv.server.timeouts.idle == .seconds(90))
        #expect(fromEnv.server.rpc.callsPerSecond == 10 && fromEnv.server.rpc.callBurst == 20)
        #expect(fromEnv.logFormat == .json)
        #expect(fromEnv.server.allowedOrigins == ["https://app.example.com", "http://localhost:3000"])
        let budgets = try Self.settings(["--anonymous-max-response-bytes", "64KiB"], env: [
            "FAROS_MAX_RESPONSE_BYTES": "1MiB", "FAROS_ANONYMOUS_MAX_RESPONSE_BYTES": "16KiB", "FAROS_REPLAY_MAX_BYTES": "8MiB",
        ])
        #expect(budgets.server.rpc.maxResponseBytes == 1 << 20)
        #expect(budgets.server.rpc.anonymousMaxResponseBytes == 64 << 10)
        #expect(budgets.events.replayMaxBytes == 8 << 20)

        let flagged = try Self.settings(["--port", "7000", "--no-enable-echo", "--idle-timeout", "5s"], env: env)
        #expect(flagged.edge.port == 7000)
        #expect(!flagged.server.enableEcho)
        #expect(flagged.server.timeouts.idle == .seconds(5))
    }

    @Test(arguments: [
        ["FAROS_PORT": "70000"], ["FAROS_PORT": "http"], ["FAROS_MAX_BATCH": "0"], ["FAROS_MAX_BATCH": "-1"],
        ["FAROS_IDLE_TIMEOUT": "0s"], ["FAROS_IDLE_TIMEOUT": "10 parsecs"], ["FAROS_IDLE_TIMEOUT": "-5s"],
        ["FAROS_MAX_MESSAGE_BYTES": "12"], ["FAROS_MAX_MESSAGE_BYTES": "99999999999999999999999"],
        ["FAROS_ENABLE_ECHO": "maybe"], ["FAROS_LOG_LEVEL": "loud"], ["FAROS_LOG_FORMAT": "xml"],
        ["FAROS_CALLS_PER_SECOND": "fast"], ["FAROS_CALLS_PER_SECOND": "5/0"], ["FAROS_CALLS_PER_SECOND": "1/2/3"],
        ["FAROS_ALLOWED_ORIGINS": "not an origin"], ["FAROS_PUBLIC_URL": "ftp://x"],
        ["FAROS_OUTBOUND_BUFFER_BYTES": "1k"], ["FAROS_EVENT_LOOP_THREADS": "0"],
        ["FAROS_MAX_RESPONSE_BYTES": "1k"], ["FAROS_ANONYMOUS_MAX_RESPONSE_BYTES": "lots"], ["FAROS_REPLAY_MAX_BYTES": "1k"],
        ["FAROS_MAX_COMMENTS_PER_USER": "0"], ["FAROS_MAX_COMMENTS_PER_USER": "many"], ["FAROS_MAX_SHARES_PER_USER": "-1"],
        ["FAROS_MAX_STORED_RESULTS_PER_USER": "1e9"], ["FAROS_UPLOAD_TIMEOUT": "forever"], ["FAROS_UPLOAD_MIN_RATE": "-5"],
        ["FAROS_VAPID_SUBJECT": "ops@example.com"], ["FAROS_VAPID_SUBJECT": "http://example.com"], ["FAROS_VAPID_SUBJECT": "mailto:"],
        ["FAROS_VAPID_SUBJECT": "mailto:a b@example.com"], ["FAROS_PUSH_TTL": "10s"], ["FAROS_PUSH_TTL": "60d"],
        ["FAROS_PUSH_ALLOW_HTTP": "yes"],
    ])
    func badValuesAreRefusedNamingTheSetting(env: [String: String]) throws {
        let variable = env.keys.first!
        do {
            _ = try Self.settings([], env: env)
            Issue.record("\(env) was accepted")
        } catch let error as ValidationError {
            #expect(error.message.contains(variable))
            #expect(error.message.contains("--"))
        }
    }

    @Test func everySettingIsDocumentedInHelpWithItsVariable() {
        let help = ServeCommand.helpMessage(columns: 400)
        for variable in [
            "FAROS_HOST", "FAROS_PORT", "FAROS_PUBLIC_URL", "FAROS_ALLOWED_ORIGINS", "FAROS_ENABLE_ECHO",
            "FAROS_PERMESSAGE_DEFLATE", "FAROS_LOG_FORMAT", "FAROS_LOG_LEVEL", "FAROS_MAX_MESSAGE_BYTES",
            "FAROS_MAX_BATCH", "FAROS_CALLS_PER_SECOND", "FAROS_MAX_INFLIGHT", "FAROS_OUTBOUND_BUFFER_BYTES",
            "FAROS_HANDSHAKE_TIMEOUT", "FAROS_IDLE_TIMEOUT", "FAROS_SHUTDOWN_GRACE", "FAROS_EVENT_LOOP_THREADS",
            "FAROS_MAX_RESPONSE_BYTES", "FAROS_ANONYMOUS_MAX_RESPONSE_BYTES", "FAROS_REPLAY_MAX_BYTES",
            "FAROS_MAX_COMMENTS_PER_USER", "FAROS_MAX_SHARES_PER_USER", "FAROS_MAX_STORED_RESULTS_PER_USER",
            "FAROS_UPLOAD_TIMEOUT", "FAROS_UPLOAD_MIN_RATE",
        ] {
            let flag = "--" + variable.dropFirst(6).lowercased().replacingAll("_", with: "-")
            #expect(help.contains("(env: \(variable);"), "\(variable)")
            #expect(help.contains(flag), "\(flag)")
        }
    }

    @Test(arguments: [("10s", 10_000), ("250ms", 250), ("1h30m", 5_400_000), ("2", 2_000), ("0.5", 500)])
    func durations(text: String, milliseconds: Int64) {
        #expect(SettingValue.duration(text) == .milliseconds(milliseconds))
    }

    @Test(arguments: ["", "s", "10x", "1h 30m", "-1s", "1.2.3s", "ms10"])
    func badDurations(text: String) {
        #expect(SettingValue.duration(text) == nil)
    }
}

@Suite struct StorageAndAccountSettingsTests {
    static func settings(_ arguments: [String], env: [String: String] = [:]) throws -> Settings {
        try SettingsTests.settings(arguments, env: env)
    }

    @Test func defaultsAreTheDocumentedOnes() throws {
        let settings = try Self.settings([])
        #expect(settings.storage.store.dataDirectory == "./faros-data")
        #expect(settings.storage.store.databaseURL == nil)
        #expect(settings.storage.store.poolSize == 8)
        #expect(settings.storage.store.poolTimeout == .seconds(5))
        #expect(settings.jwtSecret == nil)
        #expect(settings.tokenTTL == .seconds(3600))
        #expect(settings.rateLimits)
        #expect(settings.edge.trustedProxies.isEmpty)
        #expect(settings.mailFrom == "faros@localhost")
        #expect(settings.publicURL == "http://127.0.0.1:8080")
    }

    @Test func variablesApplyAndFlagsWin() throws {
        let env = [
            "FAROS_DATA_DIR": "/var/lib/faros", "FAROS_DATABASE_URL": "postgres://db/faros",
            "FAROS_DB_POOL_SIZE": "16", "FAROS_DB_POOL_TIMEOUT": "2s", "FAROS_TOKEN_TTL": "15m",
            "FAROS_RATE_LIMITS": "off", "FAROS_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
            "FAROS_JWT_SECRET": String(repeating: "s", count: 32), "FAROS_PUBLIC_URL": "https://tasks.example.com/",
        ]
        let fromEnv = try Self.settings([], env: env)
        #expect(fromEnv.storage.store.dataDirectory == "/var/lib/faros")
        #expect(fromEnv.storage.store.databaseURL == "postgres://db/faros")
        #expect(fromEnv.storage.store.poolSize == 16)
        #expect(fromEnv.storage.store.poolTimeout == .seconds(2))
        #expect(fromEnv.tokenTTL == .seconds(900))
        #expect(!fromEnv.rateLimits)
        #expect(fromEnv.edge.trustedProxies.trusts("10.1.2.3") && fromEnv.edge.trustedProxies.trusts("::1"))
        #expect(fromEnv.jwtSecret?.count == 32)
        #expect(fromEnv.publicURL == "https://tasks.example.com")

        let flagged = try Self.settings(["--data-dir", "here", "--rate-limits", "--token-ttl", "2h"], env: env)
        #expect(flagged.storage.store.dataDirectory == "here")
        #expect(flagged.rateLimits)
        #expect(flagged.tokenTTL == .seconds(7200))
    }

    @Test(arguments: [
        (["--jwt-secret", "short"], "--jwt-secret / FAROS_JWT_SECRET"),
        (["--trusted-proxies", "10.0.0.0/8,nonsense"], "'nonsense'"),
        (["--token-ttl", "10s"], "--token-ttl / FAROS_TOKEN_TTL"),
        (["--db-pool-size", "0"], "--db-pool-size / FAROS_DB_POOL_SIZE"),
        (["--password-cost", "12"], "--password-cost / FAROS_PASSWORD_COST"),
        (["--database-url", "redis://x"], "--database-url / FAROS_DATABASE_URL"),
    ])
    func badValuesAreRefusedNamingTheSetting(arguments: [String], named: String) throws {
        do {
            _ = try Self.settings(arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect("\(error)".contains(named), "\(error)")
        }
    }
}
