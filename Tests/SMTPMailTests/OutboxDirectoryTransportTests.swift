import Foundation
@testable import Handlers
import Logging
@testable import SMTPMail
import Synchronization
import Testing

/// Log records kept in memory (the global logging system is never bootstrapped in tests).
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked: `metadata` and `logLevel` are value copies per Logger, as swift-log requires;
    // the shared record list is behind a Mutex.
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    final class Store: Sendable {
        let records = Mutex<[Record]>([])
        var all: [Record] { records.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(store: Store) {
        self.store = store
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        store.records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: merged)) }
    }
}

/// The outbox directory: files appear whole, with the documented names, modes and log line.
@Suite struct OutboxDirectoryTransportTests {
    private func temporaryDirectory() throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("faros-outbox-\(UUID().uuidString)")
        return base.path
    }

    static func outgoing(_ message: MailMessage, createdAt: Timestamp = Timestamp(rfc3339: "2026-11-25T12:00:00.730Z")!) -> OutgoingMail {
        let text = MailRenderer.render(message, from: "faros@faros.test", date: createdAt, boundary: "=_faros_test")
        return OutgoingMail(envelopeFrom: "faros@faros.test", envelopeTo: message.to, bytes: Array(text.utf8), message: message, createdAt: createdAt)
    }

    @Test func writesOneFilePerMessageAndLogsWithoutTheBody() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/data/outbox"
        let logs = RecordingLogHandler.Store()
        let transport = OutboxDirectoryTransport(
            directory: directory,
            logger: Logger(label: "test", factory: { _ in RecordingLogHandler(store: logs) })
        )
        let token = "SECRET-token-value-0123456789abcdefghijklmnop"
        let first = AccountMail.verification(
            to: "ana@example.com", link: "http://faros.test/verify-email?token=\(token)", messageID: "<m1@faros.test>"
        )
        var second = first
        second.messageID = "<m2@faros.test>"
        try await transport.deliver(Self.outgoing(first))
        try await transport.deliver(Self.outgoing(second))

        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files.count == 2)
        for file in files {
            #expect(file.hasPrefix("20261125T120000.730Z-") && file.hasSuffix(".eml"))
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let content = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            #expect(content.hasPrefix("Date: Wed, 25 Nov 2026 12:00:00 +0000\r\nFrom: faros@faros.test\r\nTo: ana@example.com\r\n"))
            #expect(content.contains("Content-Type: multipart/alternative;"))
            // The link survives quoted-printable (soft breaks and =3D) intact.
            let unfolded = content.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
            #expect(unfolded.contains("http://faros.test/verify-email?token=\(token)"))
        }
        let directoryMode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)

        let records = logs.all
        #expect(records.count == 2)
        for record in records {
            #expect(record.level == .info)
            #expect(record.metadata["mail.to"]?.description == "ana@example.com")
            #expect(record.metadata["mail.subject"]?.description == first.subject)
            #expect(files.contains(record.metadata["mail.file"]?.description ?? ""))
            let everything = record.message + record.metadata.map { "\($0.key)=\($0.value)" }.joined()
            #expect(!everything.contains(token))
        }
    }

    /// At least once, without copies: delivering one message again (a crash between the write
    /// and the outbox update) replaces its file.
    @Test func aResentMessageReplacesItsFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let transport = OutboxDirectoryTransport(directory: directory, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let message = MailMessage(to: "ana@example.com", subject: "s", text: "t", messageID: "<same@x>")
        try await transport.deliver(Self.outgoing(message))
        try await transport.deliver(Self.outgoing(message))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1)
    }

    @Test func leavesNoTemporaryFilesBehind() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let transport = OutboxDirectoryTransport(directory: directory, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        for index in 0..<5 {
            try await transport.deliver(Self.outgoing(MailMessage(to: "ana@example.com", subject: "n\(index)", text: "t", messageID: "<\(index)@x>")))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 5)
        #expect(files.allSatisfy { $0.hasSuffix(".eml") && !$0.hasPrefix(".") })
    }

    /// A directory that cannot be written is a passing failure (the sender retries), logged by
    /// the sender, never with the recipient here.
    @Test func anUnwritableDirectoryIsATransientFailure() async throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // A regular file where the directory should be.
        #expect(FileManager.default.createFile(atPath: root + "/outbox", contents: Data("x".utf8)))
        let logs = RecordingLogHandler.Store()
        let transport = OutboxDirectoryTransport(
            directory: root + "/outbox",
            logger: Logger(label: "test", factory: { _ in RecordingLogHandler(store: logs) })
        )
        do {
            try await transport.deliver(Self.outgoing(MailMessage(to: "ana@example.com", subject: "s", text: "t", messageID: "<1@x>")))
            Issue.record("delivery into a file should fail")
        } catch let error as MailDeliveryError {
            #expect(error.kind == .transient)
            #expect(!error.message.contains("ana@example.com"))
        }
        #expect(logs.all.isEmpty)
    }

    @Test func fileNamesSortByTime() {
        let early = OutboxDirectoryTransport.fileName(Timestamp(rfc3339: "2026-11-25T09:59:59.999Z")!, random: "ff")
        let late = OutboxDirectoryTransport.fileName(Timestamp(rfc3339: "2026-11-25T10:00:00.000Z")!, random: "00")
        #expect(early == "20261125T095959.999Z-ff.eml")
        #expect(early < late)
    }
}
