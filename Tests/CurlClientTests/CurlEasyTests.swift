import CurlClient
import Foundation
import TestSupport
import Testing

/// A real HTTP/1.1 server we did not write (Python's http.server) on a free loopback port: GET
/// answers a fixed body, PUT echoes the body it received.
private final class LoopbackHTTPServer: Sendable {
    static let script = """
    import http.server, sys
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from loopback"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def do_PUT(self):
            data = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
    """

    let process: ChildProcess
    let port: Int

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    static func start() async throws -> LoopbackHTTPServer {
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("curl-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        let process = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.script, portFile])
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return LoopbackHTTPServer(process: process, port: port)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGKILL)
        _ = process.waitUntilExit()
        throw ServerDidNotStart()
    }

    func stop() {
        self.process.signal(SIGKILL)
        _ = self.process.waitUntilExit()
    }
}

private struct ServerDidNotStart: Error {}

/// A loopback port nothing listens on (bound once by us, then released).
private func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite struct CurlEasyTests {
    @Test func getCollectsTheBodyThroughTheWriteClosure() async throws {
        let server = try await LoopbackHTTPServer.start()
        defer { server.stop() }
        let easy = try CurlEasy()
        var body: [UInt8] = []
        try easy.set(.url, "http://127.0.0.1:\(server.port)/anything")
        try easy.set(.noSignal, true)
        try easy.set(.timeoutSeconds, 10)
        try easy.set(protocols: [.http])
        try easy.onWrite { bytes in
            body += bytes
            return bytes.count
        }
        try easy.perform()
        #expect(try easy.responseCode() == 200)
        #expect(String(decoding: body, as: UTF8.self) == "hello from loopback")
    }

    @Test func aRefusedConnectionThrowsTheCodeAndMessage() throws {
        let port = try closedPort()
        let easy = try CurlEasy()
        try easy.set(.url, "http://127.0.0.1:\(port)/")
        try easy.set(.connectTimeoutSeconds, 5)
        let error = try #require(throws: CurlError.self) { try easy.perform() }
        #expect(error.code == .couldNotConnect)
        #expect(error.summary == "Couldn't connect to server")
        // The error buffer's text, which names where it tried.
        #expect(error.message.contains("\(port)"))
        #expect(try easy.responseCode() == 0)
    }

    @Test func putSendsWhatTheReadClosureHandsOut() async throws {
        let server = try await LoopbackHTTPServer.start()
        defer { server.stop() }
        let payload = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var offset = 0
        var echoed: [UInt8] = []
        let easy = try CurlEasy()
        try easy.set(.url, "http://127.0.0.1:\(server.port)/upload")
        try easy.set(.customRequest, "PUT")
        try easy.set(.httpHeaders, ["Content-Type: application/octet-stream", "Expect:"])
        try easy.set(.upload, true)
        try easy.set(uploadSize: Int64(payload.count))
        try easy.onRead { buffer in
            let n = min(buffer.count, payload.count - offset)
            payload.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
            offset += n
            return n
        }
        try easy.onWrite { bytes in
            echoed += bytes
            return bytes.count
        }
        try easy.perform()
        #expect(try easy.responseCode() == 201)
        #expect(offset == payload.count)
        #expect(echoed == payload)
    }

    @Test func aReadAbortFailsTheUpload() async throws {
        let server = try await LoopbackHTTPServer.start()
        defer { server.stop() }
        let easy = try CurlEasy()
        try easy.set(.url, "http://127.0.0.1:\(server.port)/upload")
        try easy.set(.upload, true)
        try easy.set(uploadSize: 10)
        try easy.onRead { _ in CurlEasy.readAbort }
        let error = try #require(throws: CurlError.self) { try easy.perform() }
        #expect(error.code == .abortedByCallback)
    }
}
