import Foundation
import TestSupport
import Testing

/// scripts/smtp_server.py (aiosmtpd) as a child process on a free loopback port, with its own
/// maildir and event log in a fresh temporary directory.
final class TestSMTPServer: @unchecked Sendable {
    let process: ChildProcess
    let directory: URL
    let maildir: URL
    let eventLog: URL
    let portFile: URL
    private(set) var port = 0
    /// The read end of the server's standard error (the write end is the child's alone).
    private let stderrReader: FileHandle

    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/e2e/smtp_server.py").path

    /// The Python with aiosmtpd: `FAROS_TEST_PYTHON` (scripts/test points it at its venv), else
    /// `python3` on the PATH.
    static let python: String = ProcessInfo.processInfo.environment["FAROS_TEST_PYTHON"] ?? "python3"

    /// One accepted message: the sidecar's envelope and the raw bytes.
    struct Message {
        var mailFrom: String
        var recipients: [String]
        var tls: Bool
        var authUser: String?
        var bytes: [UInt8]
    }

    /// Starts the server with `arguments` (beyond port, port file, maildir, event log) and waits
    /// (without blocking a concurrency thread) until it has written its port file.
    static func start(_ arguments: [String] = []) async throws -> TestSMTPServer {
        let server = try TestSMTPServer(arguments)
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: server.portFile, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                server.port = value
                return server
            }
            if !server.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await server.stop()
        let errors = String(decoding: server.stderrReader.availableData, as: UTF8.self)
        throw TestServerError(message: "smtp_server.py did not start: \(errors)")
    }

    private init(_ arguments: [String]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.maildir = directory.appendingPathComponent("mail")
        self.eventLog = directory.appendingPathComponent("events.jsonl")
        let portFile = directory.appendingPathComponent("port")

        self.portFile = portFile
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw TestServerError(message: "pipe: errno \(errno)") }
        self.stderrReader = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
        // The parent's copy of the write end closes right after the spawn (the child has its
        // own), so reading the pipe ends when the child's end closes.
        defer { close(ends[1]) }
        self.process = try ChildProcess(
            "/usr/bin/env",
            [Self.python, Self.script, "--port", "0", "--port-file", portFile.path,
             "--maildir", self.maildir.path, "--event-log", self.eventLog.path, "--exit-with-parent"] + arguments,
            standardError: ends[1]
        )
    }

    /// Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its directory.
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
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// The messages stored so far, in arrival order (the sidecar .json is renamed in last).
    func messages() throws -> [Message] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.maildir.path)) ?? []
        return try names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().map { name in
            let data = try Data(contentsOf: self.maildir.appendingPathComponent(name))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let eml = object["eml"] as? String
            else {
                throw TestServerError(message: "bad sidecar \(name)")
            }
            let bytes = try Data(contentsOf: self.maildir.appendingPathComponent(eml))
            return Message(mailFrom: object["mail_from"] as? String ?? "<missing>",
                           recipients: object["rcpt_tos"] as? [String] ?? [],
                           tls: object["tls"] as? Bool ?? false,
                           authUser: object["auth_user"] as? String,
                           bytes: Array(bytes))
        }
    }

    /// The event log's records (AUTH attempts, MAIL, RCPT, DATA).
    func events() -> [[String: Any]] {
        guard let text = try? String(contentsOf: self.eventLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Runs `body` against a fresh server, stopping it afterwards whatever happens.
func withServer<T>(_ arguments: [String] = [], _ body: (TestSMTPServer) async throws -> T) async throws -> T {
    let server = try await TestSMTPServer.start(arguments)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A self-signed certificate for localhost and 127.0.0.1, made once per test run with the
/// openssl CLI; `cert` doubles as the CA file the client trusts.
struct TestCertificate: Sendable {
    let cert: String
    let key: String

    static let shared: Result<TestCertificate, TestServerError> = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-cert-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            return .failure(TestServerError(message: "mkdir: \(error)"))
        }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let status: Int32
        do {
            status = try ChildProcess(
                "/usr/bin/env",
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                 "-days", "2", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
            ).waitUntilExit()
        } catch {
            return .failure(TestServerError(message: "openssl: \(error)"))
        }
        guard status == 0 else {
            return .failure(TestServerError(message: "openssl exited \(status)"))
        }
        return .success(TestCertificate(cert: cert, key: key))
    }()

    static func get() throws -> TestCertificate { try self.shared.get() }
}
