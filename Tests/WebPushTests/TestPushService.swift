import CurlClient
import Foundation
import TestSupport
import Testing

/// scripts/e2e/push_service.py (http_ece, cryptography) as a child process on a free loopback
/// port: a push service we did not write, which checks VAPID and decrypts what arrives.
final class TestPushService: Sendable {
    let process: ChildProcess
    let port: Int
    let directory: String
    /// The certificate the service presents over TLS (its own CA), or nil for cleartext.
    let caFile: String?

    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/e2e/push_service.py").path

    /// The Python with http_ece and cryptography: `FAROS_TEST_PYTHON` (scripts/test points it at
    /// its venv). Without it the transport tests are skipped; CI sets it.
    static let python: String? = ProcessInfo.processInfo.environment["FAROS_TEST_PYTHON"]

    struct Subscription: Sendable {
        var id: String
        var endpoint: String
        var p256dh: [UInt8]
        var auth: [UInt8]
    }

    private init(process: ChildProcess, port: Int, directory: String, caFile: String?) {
        self.process = process
        self.port = port
        self.directory = directory
        self.caFile = caFile
    }

    /// Starts the service (over TLS with `certificate`) and waits, without blocking a
    /// concurrency thread, for its port file.
    static func start(_ arguments: [String] = [], certificate: TestCertificate? = nil) async throws -> TestPushService {
        let tlsArguments = certificate.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? []
        let python = try #require(Self.python)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("push-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/port"
        let errors = directory + "/stderr"
        let errorFD = open(errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(errorFD) }
        let process = try ChildProcess(
            "/usr/bin/env",
            [python, Self.script, "--port", "0", "--port-file", portFile, "--exit-with-parent"] + tlsArguments + arguments,
            standardError: errorFD
        )
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return TestPushService(process: process, port: port, directory: directory, caFile: certificate?.cert)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.signal(SIGKILL)
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: directory)
        throw PushServiceError(message: "push_service.py did not start: \(stderr)")
    }

    func stop() async {
        if self.process.isRunning {
            self.process.signal(SIGTERM)
            let deadline = ContinuousClock.now + .seconds(3)
            while self.process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if self.process.isRunning {
                self.process.signal(SIGKILL)
                self.process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    var origin: String { "\(self.caFile == nil ? "http" : "https")://127.0.0.1:\(self.port)" }

    /// A control request; the decoded JSON answer (nil for an empty body). A blocking loopback
    /// exchange of a millisecond, through our curl wrapper (the push service is what is not ours).
    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let easy = try CurlEasy()
        try easy.set(.url, self.origin + path)
        try easy.set(.customRequest, method)
        try easy.set(.noSignal, true)
        try easy.set(.timeoutSeconds, 10)
        if let caFile = self.caFile { try easy.set(.caInfo, caFile) }
        if let body {
            try easy.set(postBody: [UInt8](try JSONSerialization.data(withJSONObject: body)))
            try easy.set(.httpHeaders, ["Content-Type: application/json"])
        }
        var data = [UInt8]()
        try easy.onWrite { buffer in
            data.append(contentsOf: buffer)
            return buffer.count
        }
        try easy.perform()
        let status = try easy.responseCode()
        guard (200..<300).contains(status) else {
            throw PushServiceError(message: "\(method) \(path): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return data.isEmpty ? nil : try JSONSerialization.jsonObject(with: Data(data))
    }

    func subscribe(applicationServerKey: String? = nil) async throws -> Subscription {
        let body: [String: Any] = applicationServerKey.map { ["applicationServerKey": $0] } ?? [:]
        let answer = try #require(try await self.control("POST", "/_control/subscriptions", body) as? [String: Any])
        let keys = try #require(answer["keys"] as? [String: String])
        return Subscription(
            id: try #require(answer["id"] as? String),
            endpoint: try #require(answer["endpoint"] as? String),
            p256dh: b64(try #require(keys["p256dh"])),
            auth: b64(try #require(keys["auth"]))
        )
    }

    func messages(subscription: String? = nil) async throws -> [[String: Any]] {
        let query = subscription.map { "?subscription=\($0)" } ?? ""
        return try #require(try await self.control("GET", "/_control/messages" + query) as? [[String: Any]])
    }

    func stats() async throws -> [String: Int] {
        try #require(try await self.control("GET", "/_control/stats") as? [String: Int])
    }

    func setMode(_ mode: [String: Any]) async throws {
        try await self.control("POST", "/_control/mode", mode)
    }
}

struct PushServiceError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Runs `body` against a fresh push service, stopping it afterwards whatever happens.
func withPushService<T>(
    _ arguments: [String] = [],
    certificate: TestCertificate? = nil,
    _ body: (TestPushService) async throws -> T
) async throws -> T {
    let service = try await TestPushService.start(arguments, certificate: certificate)
    do {
        let result = try await body(service)
        await service.stop()
        return result
    } catch {
        await service.stop()
        throw error
    }
}

/// A self-signed certificate for 127.0.0.1, made once per test run with the openssl command;
/// `cert` doubles as the CA file the client trusts.
struct TestCertificate: Sendable {
    let cert: String
    let key: String

    static let shared: Result<TestCertificate, PushServiceError> = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("push-cert-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let cert = directory + "/cert.pem"
            let key = directory + "/key.pem"
            let status = try ChildProcess(
                "/usr/bin/env",
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
            ).waitUntilExit()
            guard status == 0 else { return .failure(PushServiceError(message: "openssl req exited \(status)")) }
            return .success(TestCertificate(cert: cert, key: key))
        } catch {
            return .failure(PushServiceError(message: "openssl req: \(error)"))
        }
    }()

    static func get() throws -> TestCertificate { try self.shared.get() }
}
