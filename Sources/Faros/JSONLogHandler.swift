#if canImport(Glibc)
import Glibc
#endif
import JSON
import JSONRPC
import Logging

/// Writes one JSON object per log record to standard error (`--log-format json`), for log collectors.
///
/// Fields: `ts` (RFC 3339 UTC, milliseconds), `level`, `label`, `msg`, `source`, then the metadata
/// under its own dotted keys. One `write(2)` per record keeps lines whole across threads.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let label: String

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        func field(_ key: String, _ value: String) {
            line.append(line.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONWriter.write(key, into: &line)
            line.append(UInt8(ascii: ":"))
            JSONWriter.write(value, into: &line)
        }
        field("ts", Self.timestamp())
        field("level", event.level.rawValue)
        field("label", self.label)
        field("msg", event.message.description)
        field("source", event.source)
        for key in merged.keys.sorted() where !["ts", "level", "label", "msg", "source"].contains(key) {
            field(key, merged[key]!.description)
        }
        line.append(contentsOf: "}\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// `2026-11-25T02:05:41.730Z`
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
