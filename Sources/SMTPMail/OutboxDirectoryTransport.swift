import Credentials
public import Handlers
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers mail into a directory, one RFC 5322 `.eml` file per message: the transport when no
/// SMTP server is configured (`DATA_DIR/outbox/`), so a single machine works with zero setup and
/// an operator (or a test) can read every mail the server sent.
///
/// Each message is written to a hidden temporary file in the same directory, synced, and
/// renamed to `<UTC creation time>-<digest of the Message-ID>.eml` (then the directory is
/// synced): a reader never sees a half-written message, a crash leaves at most a stray `.*.tmp`
/// file, and a message delivered twice (a crash between the write and the outbox update)
/// replaces its own file instead of leaving a copy. Names sort by time. The directory is created
/// with mode 0700 and files with 0600: reset and verification links are credentials.
///
/// The log names recipient, subject and file at `info` (the outbox standing in for a mail log), never the body, which holds the link's token.
///
/// Writing is blocking file I/O (a few kilobytes and two `fsync`s), run through `runBlocking`
/// (the server passes its blocking-I/O thread pool; inline by default, for tests).
public final class OutboxDirectoryTransport: MailTransport {
    public typealias BlockingRunner = @Sendable (_ work: @escaping @Sendable () throws -> Void) async throws -> Void

    private let directory: String
    private let logger: Logger
    private let runBlocking: BlockingRunner

    public var name: String { "outbox-directory" }

    /// - Parameters:
    ///   - directory: where the files go; created (with its parents, mode 0700) when missing.
    ///   - runBlocking: runs the file I/O off the caller's thread.
    public init(directory: String, logger: Logger, runBlocking: @escaping BlockingRunner = { try $0() }) {
        self.directory = directory
        self.logger = logger
        self.runBlocking = runBlocking
    }

    public func deliver(_ mail: OutgoingMail) async throws {
        let name = Self.fileName(mail.createdAt, random: String(OneTimeToken.hash(mail.messageID).prefix(16)))
        let directory = self.directory
        let bytes = mail.bytes
        do {
            try await runBlocking {
                try Self.ensureDirectory(directory)
                try Self.writeAtomically(bytes, directory: directory, name: name)
            }
        } catch {
            throw MailDeliveryError(.transient, "outbox directory: \(error)")
        }
        logger.info(
            "mail written to the outbox",
            metadata: [
                "mail.to": "\(MailRenderer.headerText(mail.envelopeTo))",
                "mail.subject": "\(MailRenderer.headerText(mail.subject))",
                "mail.file": "\(name)",
            ]
        )
    }

    /// `20261125T120000.730Z-<random>.eml`: UTC, sortable, no characters any file system minds.
    static func fileName(_ time: Timestamp, random: String) -> String {
        let stamp = time.description.filter { $0 != "-" && $0 != ":" }
        return "\(stamp)-\(random).eml"
    }

    // MARK: Files

    /// A failed system call, for the log.
    struct IOError: Error, CustomStringConvertible {
        var operation: String
        var code: Int32
        var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
    }

    /// Creates `path` and its missing parents with mode 0700.
    static func ensureDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw IOError(operation: "mkdir", code: errno)
            }
        }
    }

    /// Writes `bytes` to `directory/name` all or nothing: temporary file, fsync, rename, fsync
    /// of the directory.
    static func writeAtomically(_ bytes: [UInt8], directory: String, name: String) throws {
        let temporary = "\(directory)/.\(name).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError(operation: "open", code: errno) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw IOError(operation: "write", code: errno)
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw IOError(operation: "fsync", code: errno) }
        }
        guard rename(temporary, "\(directory)/\(name)") == 0 else { throw IOError(operation: "rename", code: errno) }
        renamed = true
        // The rename is durable once the directory entry is; a failure here loses nothing now.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}
