import Credentials
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers mail into a directory, one RFC 5322 `.eml` file per message: the default when no
/// SMTP server is configured (`DATA_DIR/outbox/`), so a single machine works with zero setup and
/// an operator (or a test) can read every mail the server sent.
///
/// Each message is written to a hidden temporary file in the same directory, synced, and
/// renamed to `<UTC timestamp>-<random>.eml` (then the directory is synced): a reader never
/// sees a half-written message, and a crash leaves at most a stray `.*.tmp` file. Names sort by
/// time. The directory is created with mode 0700 and files with 0600: reset and verification
/// links are credentials.
///
/// The log names recipient, subject and file at `info` (API.md's documented outbox behaviour,
/// the outbox standing in for a mail log), never the body, which holds the link's token.
///
/// Writing is blocking file I/O (a few kilobytes and one `fsync`), done on the calling task:
/// callers send mail from a detached task, never on a request's path. `send` never throws;
/// a failure is logged.
public final class OutboxMailer: MailSender {
    private let directory: String
    private let from: String
    private let logger: Logger
    private let clock: @Sendable () -> Timestamp

    /// - Parameters:
    ///   - directory: where the files go; created (with its parents, mode 0700) when missing.
    ///   - from: the `From` header, an address or `Display Name <address>`.
    ///   - clock: the `Date` header's and the file name's time; the system's by default.
    public init(
        directory: String,
        from: String,
        logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = { Timestamp.now() }
    ) {
        self.directory = directory
        self.from = from
        self.logger = logger
        self.clock = clock
    }

    public func send(_ message: MailMessage) async {
        let now = clock()
        let boundary = "=_faros_" + Self.hex(SecureRandom.bytes(12))
        let text = MailRenderer.render(message, from: from, date: now, boundary: boundary)
        let name = Self.fileName(now, random: Self.hex(SecureRandom.bytes(6)))
        do {
            try Self.ensureDirectory(directory)
            try Self.writeAtomically(Array(text.utf8), directory: directory, name: name)
            logger.info(
                "mail written to the outbox",
                metadata: [
                    "mail.to": "\(MailRenderer.headerText(message.to))",
                    "mail.subject": "\(MailRenderer.headerText(message.subject))",
                    "mail.file": "\(name)",
                ]
            )
        } catch {
            logger.error(
                "mail could not be written to the outbox",
                metadata: ["mail.file": "\(name)", "error": "\(error)"]
            )
        }
    }

    /// `20261125T120000.730Z-<random>.eml`: UTC, sortable, no characters any file system minds.
    static func fileName(_ time: Timestamp, random: String) -> String {
        let stamp = time.description.filter { $0 != "-" && $0 != ":" }
        return "\(stamp)-\(random).eml"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = String.UnicodeScalarView()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(out)
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
