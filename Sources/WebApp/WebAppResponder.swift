public import HTTPEdge
import JSONRPC
public import NIOCore
public import NIOHTTP1

/// Serves the browser side from memory: the app at `/`, every file of `web/` under a versioned
/// root, and the client library at stable URLs.
///
/// - `/` (and `/index.html`): `app/index.html` with each `__ASSETS__` replaced by the versioned
///   root; never cached, so a new version is picked up at the next load.
/// - `/assets/<version>/<path>`: the file at `<path>` under `web/`. With the current version it
///   is cached for a year (`immutable`): the version is a checksum of every file, so any change
///   makes new URLs. An older version's URL (a page loaded before a deploy) gets the current
///   file, uncached.
/// - `/client/faros.js`, `/client/faros.d.ts`: the client library at URLs other apps can name;
///   revalidated on every use (ETag).
/// - `/sw.js`: the app's service worker (`app/sw.js`, Web Push notifications), at the root because
///   a worker's scope can be no wider than its script's directory and the app's is the whole
///   origin; revalidated on every use, so a new version reaches browsers at their next check.
///
/// Text files are gzipped once at start-up and sent compressed to browsers that accept it. Every
/// answer carries the app's Content-Security-Policy: scripts and styles from this origin only, no
/// inline script or style, no framing.
public final class WebAppResponder: HTTPStaticResponder {
    /// The app's policy. `connect-src 'self'` covers the WebSocket to the same host (CSP 3), and
    /// `img-src` allows `blob:` and `data:` for previews of files being uploaded.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

    /// One file ready to send.
    struct Entry: Sendable {
        var contentType: String
        var identity: ByteBuffer
        var gzip: ByteBuffer?
        var etag: String
    }

    /// A checksum of every file: the versioned root's name.
    public let version: String
    private let files: [String: Entry]
    private let index: Entry?
    private let stablePaths: Set<String>
    private let serviceWorker: Entry?

    /// Where the service worker's script is among the files; served at `/sw.js`.
    public static let serviceWorkerPath = "app/sw.js"

    /// - Parameters:
    ///   - files: the files of `web/`, by path (`app/index.html` is the page at `/`).
    ///   - stable: paths also served at `/<path>` (the client library).
    public init(files: [WebFile], stable: Set<String> = ["client/faros.js", "client/faros.d.ts"]) {
        var crc: UInt32 = 0
        var length = 0
        for file in files.sorted(by: { $0.path < $1.path }) {
            crc = Gzip.crc32(Array(file.path.utf8), continuing: crc)
            crc = Gzip.crc32(file.bytes, continuing: crc)
            length += file.bytes.count
        }
        let version = String(crc, radix: 16) + String(length, radix: 36)
        self.version = version
        var entries: [String: Entry] = [:]
        for file in files { entries[file.path] = Self.entry(file.bytes, for: file) }
        self.files = entries
        self.stablePaths = stable.filter { entries[$0] != nil }
        self.serviceWorker = entries[Self.serviceWorkerPath]
        if let page = files.first(where: { $0.path == "app/index.html" }) {
            let text = String(decoding: page.bytes, as: UTF8.self).replacing("__ASSETS__", with: "/assets/\(version)")
            self.index = Self.entry(Array(text.utf8), for: page)
        } else {
            self.index = nil
        }
    }

    private static func entry(_ bytes: [UInt8], for file: WebFile) -> Entry {
        let gzip = file.isCompressible ? Gzip.compress(bytes).flatMap { $0.count < bytes.count ? ByteBuffer(bytes: $0) : nil } : nil
        let etag = "\"" + String(Gzip.crc32(bytes), radix: 16) + "-" + String(bytes.count, radix: 16) + "\""
        return Entry(contentType: file.contentType, identity: ByteBuffer(bytes: bytes), gzip: gzip, etag: etag)
    }

    public func respond(to head: HTTPRequestHead) -> HTTPStaticResponse? {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let entry: Entry?
        let cacheControl: String
        switch path {
        case "/", "/index.html":
            guard let index else { return nil }
            entry = index
            cacheControl = "no-cache"
        case let path where path.hasPrefix("/assets/"):
            let rest = path.dropFirst("/assets/".count)
            guard let slash = rest.firstIndex(of: "/") else {
                entry = nil
                cacheControl = "no-store"
                break
            }
            entry = self.files[String(rest[rest.index(after: slash)...])].flatMap { $0.contentType.hasPrefix("text/html") ? nil : $0 }
            cacheControl = rest[..<slash] == self.version ? "public, max-age=31536000, immutable" : "no-cache"
        case "/sw.js" where self.serviceWorker != nil:
            entry = self.serviceWorker
            cacheControl = "no-cache"
        case let path where self.stablePaths.contains(String(path.dropFirst())):
            entry = self.files[String(path.dropFirst())]
            cacheControl = "no-cache"
        default:
            return nil
        }
        guard head.method == .GET || head.method == .HEAD else {
            var refusal = HTTPRefusal(RPCError(.methodNotFound, message: "Method not allowed"))
            refusal.headers.add(name: "Allow", value: "GET, HEAD")
            return HTTPStaticResponse(refusal)
        }
        guard let entry else {
            return HTTPStaticResponse(HTTPRefusal(RPCError(.notFound, message: "Not found")))
        }
        return Self.answer(entry, cacheControl: cacheControl, request: head.headers)
    }

    private static func answer(_ entry: Entry, cacheControl: String, request: HTTPHeaders) -> HTTPStaticResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: entry.contentType)
        headers.add(name: "Cache-Control", value: cacheControl)
        headers.add(name: "ETag", value: entry.etag)
        headers.add(name: "Content-Security-Policy", value: Self.contentSecurityPolicy)
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "Cross-Origin-Opener-Policy", value: "same-origin")
        if entry.gzip != nil { headers.add(name: "Vary", value: "Accept-Encoding") }
        if request.ifNoneMatch(entry.etag) {
            return HTTPStaticResponse(status: .notModified, headers: headers)
        }
        if let gzip = entry.gzip, Self.acceptsGzip(request) {
            headers.add(name: "Content-Encoding", value: "gzip")
            return HTTPStaticResponse(status: .ok, headers: headers, body: gzip)
        }
        return HTTPStaticResponse(status: .ok, headers: headers, body: entry.identity)
    }

    /// `Accept-Encoding` lists gzip (or `*`) without `q=0` (RFC 9110 §12.5.3).
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        for value in headers["Accept-Encoding"] {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingHTTPSpaces.lowercased() }
                guard let coding = parts.first, coding == "gzip" || coding == "*" else { continue }
                return !parts.dropFirst().contains(where: Self.isZeroQuality)
            }
        }
        return false
    }
}

extension WebAppResponder {
    /// `q=0`, `q=0.0`, `q=0.000`: the coding is refused.
    static func isZeroQuality(_ parameter: String) -> Bool {
        let compact = parameter.replacing(" ", with: "")
        guard compact.hasPrefix("q=0") else { return false }
        return compact.dropFirst(3).allSatisfy { $0 == "." || $0 == "0" }
    }
}
