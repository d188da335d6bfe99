import Handlers
import Logging
import NIOPosix
import SMTPMail
import ServiceLifecycle

/// Runs the mail outbox sender until graceful shutdown (a delivery in progress is abandoned;
/// its claim lapses and the message goes again, with the same `Message-ID`).
struct MailSenderService: Service {
    let sender: MailOutboxSender

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await sender.run()
        }
    }
}

enum MailTransports {
    /// SMTP when `FAROS_SMTP_URL` is set, else the outbox directory under the data directory.
    static func make(_ settings: Settings, threadPool: NIOThreadPool, logger: Logger) -> any MailTransport {
        if let smtp = settings.smtp {
            logger.info("Mail goes over SMTP", metadata: ["smtp.server": "\(smtp)"])
            return SMTPMailTransport(transport: SMTPTransport(configuration: smtp, threadPool: threadPool), localName: settings.mailDomain)
        }
        let directory = settings.storage.store.dataDirectory + "/outbox"
        logger.info("Mail goes to the outbox directory", metadata: ["mail.directory": "\(directory)"])
        return OutboxDirectoryTransport(directory: directory, logger: logger) { work in
            try await threadPool.runIfActive { try work() }
        }
    }
}

/// ``Handlers/MailTransport`` over ``SMTPMail/SMTPTransport``: translates its errors.
struct SMTPMailTransport: MailTransport {
    let transport: SMTPTransport
    let localName: String

    var name: String { "smtp" }

    func deliver(_ mail: OutgoingMail) async throws {
        do {
            try await transport.send(from: mail.envelopeFrom, to: mail.envelopeTo, message: mail.bytes, localName: localName)
        } catch let error as SMTPError {
            throw MailDeliveryError(error.kind == .permanent ? .permanent : .transient, error.description)
        }
    }
}
