import Foundation
import HTTPEdge
import NIOCore
import NIOHTTP1
import Testing
@testable import WebApp

/// The embedded files as a browser gets them: paths, versions, caching, compression, policy.
struct WebAppResponderTests {
    static let script = String(repeating: "export const greeting = 'hello';\n", count: 40)
    static let files = [
        WebFile(path: "app/index.html", bytes: Array(#"<script type="module" src="__ASSETS__/app/main.js"></script>"#.utf8)),
        WebFile(path: "app/main.js", bytes: Array(script.utf8)),
        WebFile(path: "app/logo.png", bytes: [0x89, 0x50, 0x4E, 0x47]),
        WebFile(path: "client/faros.js", bytes: Array("export class Faros {}\n".utf8)),
        WebFile(path: "app/sw.js", bytes: Array("self.addEventListener('push', () => {});\n".utf8)),
    ]
    static let responder = WebAppResponder(files: files)

    static func get(_ uri: String, method: HTTPMethod = .GET, _ headers: [(String, String)] = []) -> HTTPStaticResponse? {
        responder.respond(to: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers)))
    }

    @Test func theIndexNamesTheVersionedRootAndIsNeverCached() throws {
        let response = try #require(Self.get("/?utm=1"))
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == #"<script type="module" src="/assets/\#(Self.responder.version)/app/main.js"></script>"#)
        #expect(response.headers["Cache-Control"] == ["no-cache"])
        #expect(response.headers["Content-Type"] == ["text/html; charset=utf-8"])
        #expect(response.headers["Content-Security-Policy"].first?.contains("script-src 'self';") == true)
        #expect(response.headers["Content-Security-Policy"].first?.contains("frame-ancestors 'none'") == true)
    }

    @Test func versionedAssetsAreImmutableAndOldVersionsGetTheCurrentFileUncached() throws {
        let current = try #require(Self.get("/assets/\(Self.responder.version)/app/main.js"))
        #expect(current.status == .ok)
        #expect(String(buffer: current.body) == Self.script)
        #expect(current.headers["Cache-Control"] == ["public, max-age=31536000, immutable"])
        #expect(current.headers["Content-Type"] == ["text/javascript; charset=utf-8"])
        let old = try #require(Self.get("/assets/0000/app/main.js"))
        #expect(old.status == .ok)
        #expect(old.headers["Cache-Control"] == ["no-cache"])
    }

    @Test func theVersionChangesWithAnyByte() {
        var changed = Self.files
        changed[1].bytes[0] ^= 1
        #expect(WebAppResponder(files: changed).version != Self.responder.version)
        #expect(WebAppResponder(files: Self.files).version == Self.responder.version)
    }

    @Test func textIsGzippedForBrowsersThatAcceptIt() throws {
        let path = "/assets/\(Self.responder.version)/app/main.js"
        let gzipped = try #require(Self.get(path, [("Accept-Encoding", "br, gzip;q=0.8")]))
        #expect(gzipped.headers["Content-Encoding"] == ["gzip"])
        #expect(gzipped.headers["Vary"] == ["Accept-Encoding"])
        #expect(gzipped.body.readableBytes < Self.script.utf8.count / 4)
        #expect(gzipped.body.getBytes(at: 0, length: 2) == [0x1F, 0x8B])
        for refused in ["gzip;q=0", "gzip; q=0.000", "identity", "deflate"] {
            #expect(Self.get(path, [("Accept-Encoding", refused)])?.headers["Content-Encoding"] == [], "\(refused)")
        }
        #expect(Self.get(path, [("Accept-Encoding", "*")])?.headers["Content-Encoding"] == ["gzip"])
        // Images are not compressed again.
        #expect(Self.get("/assets/\(Self.responder.version)/app/logo.png", [("Accept-Encoding", "gzip")])?.headers["Content-Encoding"] == [])
    }

    @Test func theClientLibraryHasAStableURLRevalidatedByETag() throws {
        let response = try #require(Self.get("/client/faros.js"))
        #expect(response.headers["Cache-Control"] == ["no-cache"])
        let etag = try #require(response.headers["ETag"].first)
        #expect(Self.get("/client/faros.js", [("If-None-Match", etag)])?.status == .notModified)
        #expect(Self.get("/client/faros.js", [("If-None-Match", "\"other\"")])?.status == .ok)
        #expect(Self.get("/client/faros.d.ts") == nil)  // not among the files: the next route decides
    }

    @Test func theServiceWorkerIsAtTheRootSoItsScopeCanBeTheWholeOrigin() throws {
        let response = try #require(Self.get("/sw.js"))
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "self.addEventListener('push', () => {});\n")
        #expect(response.headers["Content-Type"] == ["text/javascript; charset=utf-8"])
        #expect(response.headers["Cache-Control"] == ["no-cache"])
        #expect(response.headers["Service-Worker-Allowed"] == [])  // not needed at the root
        let etag = try #require(response.headers["ETag"].first)
        #expect(Self.get("/sw.js", [("If-None-Match", etag)])?.status == .notModified)
        #expect(Self.get("/sw.js", method: .POST)?.status == .methodNotAllowed)
        // Without the file the path is not the app's: the next route decides.
        #expect(WebAppResponder(files: Array(Self.files.dropLast())).respond(
            to: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/sw.js")) == nil)
        #expect(Self.get("/app/sw.js") == nil)
    }

    @Test func otherPathsAreNotTheAppsAndBadOnesAreRefused() throws {
        #expect(Self.get("/health") == nil)
        #expect(Self.get("/tasks/1/files") == nil)
        #expect(Self.get("/assets/\(Self.responder.version)/app/missing.js")?.status == .notFound)
        #expect(Self.get("/assets/\(Self.responder.version)/app/index.html")?.status == .notFound)
        #expect(Self.get("/assets/nothing")?.status == .notFound)
        let post = try #require(Self.get("/", method: .POST))
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers["Allow"] == ["GET, HEAD"])
    }
}

/// What the binary embeds is what `web/` holds: every servable file, byte for byte.
struct EmbeddedFilesTests {
    static let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("web")

    /// `web/app/` entirely (it holds only what the browser loads) and the client library.
    static func servableFiles() throws -> Set<String> {
        var paths: Set<String> = ["client/faros.js", "client/faros.d.ts"]
        let app = web.appendingPathComponent("app")
        if let walker = FileManager.default.enumerator(atPath: app.path) {
            for case let path as String in walker {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: app.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    paths.insert("app/" + path)
                }
            }
        }
        return paths
    }

    @Test func everyServableFileIsEmbeddedAsItIsOnDisk() throws {
        let embedded = Dictionary(uniqueKeysWithValues: EmbeddedFiles.all.map { ($0.path, $0.bytes) })
        let onDisk = try Self.servableFiles()
        #expect(Set(embedded.keys) == onDisk, "add each file to Sources/WebApp/Embedded and EmbeddedFiles.swift")
        for path in onDisk {
            let bytes = try Data(contentsOf: Self.web.appendingPathComponent(path))
            #expect(embedded[path] == Array(bytes), "\(path) differs from the embedded copy")
        }
    }
}
