import ArgumentParser
import Logging
import RPCServer
import WebSocketCore
import NIOCore

/// The resolved settings of `faros serve`: each flag, else its `FAROS_*` variable, else the default.
struct Settings {
    enum LogFormat: String { case text, json }

    var server = ServerConfiguration()
    var logFormat = LogFormat.text
    var logLevel = Logger.Level.info
    var eventLoopThreads = System.coreCount

    init(command: ServeCommand, environment: Environment) throws {
        var reader = SettingReader(environment: environment)

        self.server.host = reader.string(command.host, "FAROS_HOST") ?? self.server.host
        self.server.port = try reader.value(command.port.map(String.init), "FAROS_PORT", "a port number 0-65535") {
            Int($0).flatMap { (0...65535).contains($0) ? $0 : nil }
        } ?? self.server.port
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
            let host = ["0.0.0.0", "::", ""].contains(self.server.host) ? "localhost" : self.server.host
            self.server.publicURL = "http://\(FarosServer.urlHost(host)):\(self.server.port)"
        }
        if let origins = reader.string(command.allowedOrigins, "FAROS_ALLOWED_ORIGINS") {
            for origin in SettingValue.list(origins) {
                guard let normalized = WebSocketHandshake.normalizedOrigin(origin) else {
                    throw ValidationError("--allowed-origins / FAROS_ALLOWED_ORIGINS: '\(origin)' is not an origin like https://app.example.com")
                }
                self.server.allowedOrigins.insert(normalized)
            }
        }

        self.logFormat = try reader.value(command.logFormat, "FAROS_LOG_FORMAT", "text or json") {
            LogFormat(rawValue: $0.lowercased())
        } ?? .text
        self.logLevel = try reader.value(command.logLevel, "FAROS_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical") {
            Logger.Level(rawValue: $0.lowercased())
        } ?? .info

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

        self.server.timeouts.handshake = try reader.duration(command.handshakeTimeout, "FAROS_HANDSHAKE_TIMEOUT") ?? self.server.timeouts.handshake
        self.server.timeouts.idle = try reader.duration(command.idleTimeout, "FAROS_IDLE_TIMEOUT") ?? self.server.timeouts.idle
        self.server.timeouts.shutdownGrace = try reader.duration(command.shutdownGrace, "FAROS_SHUTDOWN_GRACE", allowZero: true)
            ?? self.server.timeouts.shutdownGrace

        self.eventLoopThreads = try reader.value(command.eventLoopThreads.map(String.init), "FAROS_EVENT_LOOP_THREADS", "an integer 1-256") {
            Int($0).flatMap { (1...256).contains($0) ? $0 : nil }
        } ?? self.eventLoopThreads
    }

    /// `50` (burst twice the rate), `50/100`, or `0`/`off` (no limit).
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
