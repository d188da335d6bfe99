/// One file of the browser side, by its path under `web/` (`app/main.js`, `client/faros.js`).
public struct WebFile: Sendable {
    public var path: String
    public var bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    /// The media type by extension; text types carry their charset.
    var contentType: String {
        switch self.path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json", "map": "application/json"
        case "ts": "text/plain; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        case "txt", "md": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// Worth compressing: text formats (images and fonts are compressed already).
    var isCompressible: Bool {
        self.contentType.hasPrefix("text/") || self.contentType.hasPrefix("application/json") || self.contentType == "image/svg+xml"
    }
}
