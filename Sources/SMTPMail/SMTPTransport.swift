import CurlClient
public import NIOPosix

/// Sends one already-rendered RFC 5322 message per call to the relay in ``configuration``.
///
/// Each send is one SMTP session on its own libcurl handle (connect, EHLO, STARTTLS, AUTH,
/// MAIL, RCPT, DATA, QUIT), run on `threadPool` because libcurl blocks: the caller's task and
/// event loop never wait on the network. Concurrency is therefore bounded by the pool's size,
/// and sends share nothing, so one slow relay answer delays only its own message.
///
/// Task cancellation is honoured: a send still queued on the pool is dropped, a running one is
/// aborted at once (its socket is shut down); both throw `CancellationError`. A send cancelled after the message was transmitted may still have
/// been delivered, as with any SMTP client that loses the final reply.
public final class SMTPTransport: Sendable {
    public let configuration: SMTPConfiguration
    private let threadPool: NIOThreadPool

    /// `threadPool` must be started; sends fail (transient) once it is shut down.
    public init(configuration: SMTPConfiguration, threadPool: NIOThreadPool) {
        self.configuration = configuration
        self.threadPool = threadPool
        // libcurl's global set-up is not thread-safe: done here, at start-up, before any send.
        CurlGlobal.initialize()
    }

    /// Hands `message` to the relay for the one recipient `to`, with envelope sender `from`.
    ///
    /// - Parameters:
    ///   - from: the envelope sender (`MAIL FROM`), a bare addr-spec such as `noreply@example.com`
    ///     without angle brackets; `""` sends the null reverse-path `<>` (for bounces).
    ///   - to: the envelope recipient (`RCPT TO`), a bare addr-spec.
    ///   - message: the complete message, headers and body, with CRLF line ends and lines of at
    ///     most 998 octets. Sent as it is (libcurl adds only SMTP dot-stuffing, which the relay
    ///     removes); it should end with CRLF, otherwise the relay stores an added CRLF.
    ///   - localName: the name given in EHLO; nil lets libcurl use this machine's host name.
    /// - Throws: ``SMTPError`` (see there for transient versus permanent), or `CancellationError`.
    ///   Invalid addresses or local name throw a permanent error before any network I/O.
    public func send(from: String, to: String, message: [UInt8], localName: String? = nil) async throws {
        let sender = try Envelope.validate(from, role: "sender", allowNull: true)
        let recipient = try Envelope.validate(to, role: "recipient", allowNull: false)
        if let localName { try Envelope.validateLocalName(localName) }
        let request = CurlSMTP.Request(configuration: self.configuration, localName: localName,
                                       mailFrom: "<\(sender)>", recipient: "<\(recipient)>", message: message)
        try Task.checkCancellation()

        let watchdog = CurlSMTP.Watchdog()
        // libcurl's own timeout does not cover everything (the QUIT in its cleanup, see Watchdog),
        // so the deadline is also enforced from here, a little after libcurl's own would fire.
        let limit = self.configuration.timeout + .milliseconds(250)
        let timer = Task {
            while !Task.isCancelled {
                if let started = watchdog.started, ContinuousClock.now - started >= limit {
                    watchdog.abort(.deadline)
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { timer.cancel() }
        do {
            try await withTaskCancellationHandler {
                try await self.threadPool.runIfActive { try CurlSMTP.perform(request, watchdog: watchdog) }
            } onCancel: {
                watchdog.abort(.cancelled)
            }
        } catch let error as SMTPError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            // NIOThreadPoolError.ThreadPoolInactive: the server is shutting down; the mail can wait.
            throw SMTPError(kind: .transient, cause: .other, message: "thread pool unavailable: \(error)")
        }
    }
}

/// Checks for what goes between the angle brackets of `MAIL FROM:<…>` and `RCPT TO:<…>`.
///
/// libcurl writes these into the command line verbatim, so anything that could end the command
/// (CR, LF), cut the C string (NUL), close the path early (`>`), or add ESMTP parameters
/// (space) would let an address chosen by a user inject SMTP commands. Those are refused, with
/// every other control character; the address must look like `local@domain`. This is a guard,
/// not a full RFC 5321 parser: quoted local parts with spaces are refused too.
enum Envelope {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
    static let maximumLength = 254

    static func validate(_ address: String, role: String, allowNull: Bool) throws -> String {
        if address.isEmpty {
            guard allowNull else { throw Self.invalid("the \(role) address is empty") }
            return address
        }
        guard address.utf8.count <= Self.maximumLength else {
            throw Self.invalid("the \(role) address is longer than \(Self.maximumLength) octets")
        }
        for byte in address.utf8 {
            switch byte {
            case 0..<0x20, 0x7F:
                throw Self.invalid("the \(role) address contains a control character (CR, LF, NUL, tab…)")
            case UInt8(ascii: " "), UInt8(ascii: "<"), UInt8(ascii: ">"):
                throw Self.invalid("the \(role) address contains a space or an angle bracket")
            default:
                continue
            }
        }
        guard let at = address.lastIndex(of: "@"), at != address.startIndex,
              address.index(after: at) != address.endIndex
        else {
            throw Self.invalid("the \(role) address is not local@domain")
        }
        return address
    }

    /// The EHLO name becomes the path of libcurl's URL: a host name or an address literal only.
    static func validateLocalName(_ name: String) throws {
        let bytes = Array(name.utf8)
        let literal = bytes.first == UInt8(ascii: "[") && bytes.last == UInt8(ascii: "]")
        let ok = !bytes.isEmpty && bytes.count <= 255 && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "-"), UInt8(ascii: "."):
                return true
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"):
                return literal
            default:
                return false
            }
        }
        guard ok else { throw Self.invalid("the local name is not a host name or [address literal]") }
    }

    private static func invalid(_ message: String) -> SMTPError {
        SMTPError(kind: .permanent, cause: .invalidRequest, message: message)
    }
}
