import ByteCoding
public import Logging
import Metrics
import Synchronization

/// Delivers the mail outbox (docs/mail.md): the background half of "mail is never lost".
///
/// Each round it (1) releases held mail whose quiet hours ended, one message alone or several as
/// one digest, and (2) claims due messages for this instance (``StoreWriter/claimDueMail(instance:now:leaseUntil:limit:)``),
/// renders them and hands them to the transport, a few at a time, then records the outcome:
/// sent; a passing failure retried with exponential backoff and jitter; a permanent refusal, or
/// the last attempt, recorded as failed and logged. Between rounds it sleeps until the next
/// message is due, at most ``Settings/pollInterval`` (other instances add mail too), and wakes
/// at once when this instance commits mail (``wake()``).
///
/// At least once: a message is claimed for ``Settings/lease``; an instance that dies after the
/// server accepted it but before recording that leaves the claim to lapse, and the message is
/// sent again with the same `Message-ID`. Several instances share one outbox safely: a claim
/// takes each row for one instance only.
public final class MailOutboxSender: Sendable {
    public struct Settings: Sendable {
        /// Messages claimed per round.
        public var batchSize = 32
        /// Deliveries in flight at once.
        public var concurrency = 4
        /// How long a claim lasts: longer than any transport's whole exchange (SMTP: 60 s).
        public var leaseMilliseconds: Int64 = 300_000
        /// Attempts before a message is given up (about 4.5 hours of retries with the defaults).
        public var maxAttempts = 10
        /// The first retry's delay; each later one doubles, up to ``maxBackoffMilliseconds``.
        public var baseBackoffMilliseconds: Int64 = 30_000
        public var maxBackoffMilliseconds: Int64 = 3_600_000
        /// Longest sleep between rounds.
        public var pollInterval: Duration = .seconds(5)

        public init() {}
    }

    private let domain: Domain
    private let transport: any MailTransport
    /// The `From` header (`FAROS_MAIL_FROM`), as configured.
    private let from: String
    private let envelopeFrom: String
    private let settings: Settings
    private let instance: String
    private let logger: Logger
    private let signal: MailWakeSignal

    static let sent = Counter(label: "faros_mail_sent_total")
    static let retried = Counter(label: "faros_mail_retried_total")
    static let failed = Counter(label: "faros_mail_failed_total")
    static let digests = Counter(label: "faros_mail_digests_total")

    /// - Parameter signal: what ``Domain/mailCommitted`` raises, so commits wake the sender.
    public init(
        domain: Domain, transport: any MailTransport, from: String, settings: Settings = Settings(),
        signal: MailWakeSignal = MailWakeSignal(), logger: Logger
    ) {
        self.domain = domain
        self.signal = signal
        self.transport = transport
        self.from = from
        self.envelopeFrom = Self.address(from)
        self.settings = settings
        self.instance = "\(Base64URL.encode(RandomBytes.make(9)))"
        self.logger = logger
    }

    /// Wakes the sender for mail just committed. Returns at once.
    public func wake() {
        signal.signal()
    }

    /// Sends until the task is cancelled.
    public func run() async {
        await OutboxLoop.run("mail outbox", signal: signal, pollInterval: settings.pollInterval, clock: domain.clock, logger: logger) {
            try await round()
        }
    }

    /// One round: releases held mail, then sends what is due, until nothing due is left; returns
    /// when the next message falls due (nil when the outbox is empty). Tests drive it directly.
    @discardableResult
    public func round() async throws -> Timestamp? {
        try await releaseHeldMail()
        while true {
            let now = domain.clock()
            let lease = now.adding(milliseconds: settings.leaseMilliseconds)
            let instance = self.instance
            let limit = settings.batchSize
            let claimed = try await domain.store.write { tx in
                try tx.claimDueMail(instance: instance, now: now, leaseUntil: lease, limit: limit)
            }
            if claimed.isEmpty { break }
            await deliver(claimed)
            if claimed.count < limit { break }
        }
        return try await domain.store.read { tx in try tx.nextMailDue() }
    }

    // MARK: Sending

    private func deliver(_ messages: [OutboxMail]) async {
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for message in messages {
                if inFlight == settings.concurrency {
                    await group.next()
                    inFlight -= 1
                }
                group.addTask { await self.deliver(message) }
                inFlight += 1
            }
        }
    }

    private func deliver(_ message: OutboxMail) async {
        let boundary = "=_faros_" + Hex.encode(RandomBytes.make(12))
        let rendered = MailRenderer.render(message.message, from: from, date: message.mail.createdAt, boundary: boundary)
        let outgoing = OutgoingMail(
            envelopeFrom: envelopeFrom, envelopeTo: message.mail.recipient, bytes: Array(rendered.utf8),
            message: message.message, createdAt: message.mail.createdAt
        )
        let outcome: MailOutcome
        do {
            try await transport.deliver(outgoing)
            outcome = .sent
        } catch {
            let failure = (error as? MailDeliveryError) ?? MailDeliveryError(.transient, "\(type(of: error))")
            outcome = self.outcome(after: failure, attempts: message.attempts)
        }
        let now = domain.clock()
        let instance = self.instance
        do {
            let recorded = try await domain.store.write { tx in
                try tx.completeMail(id: message.id, instance: instance, outcome: outcome, at: now)
            }
            log(message, outcome, recorded: recorded)
        } catch {
            // The claim lapses and the message goes again: at least once.
            logger.warning("mail outcome not recorded", metadata: ["mail.id": "\(message.id)", "error": "\(Domain.loggable(error))"])
        }
    }

    /// Permanent refusals and the last attempt fail; anything else is retried after
    /// `base · 2^(attempts − 1)` (capped), less up to a fifth at random so that instances
    /// retrying after one outage do not all come back at once.
    func outcome(after failure: MailDeliveryError, attempts: Int) -> MailOutcome {
        if failure.kind == .permanent { return .failed(error: failure.message) }
        if attempts >= settings.maxAttempts { return .failed(error: "gave up after \(attempts) attempts: \(failure.message)") }
        let delay = OutboxLoop.backoffMilliseconds(
            attempts: attempts, base: settings.baseBackoffMilliseconds, maximum: settings.maxBackoffMilliseconds)
        return .retry(next: domain.clock().adding(milliseconds: delay), error: failure.message)
    }

    private func log(_ message: OutboxMail, _ outcome: MailOutcome, recorded: Bool) {
        let metadata: Logger.Metadata = [
            "mail.id": "\(message.id)", "mail.kind": "\(message.mail.kind.rawValue)", "mail.attempt": "\(message.attempts)",
            "mail.transport": "\(transport.name)",
        ]
        if !recorded {
            logger.warning("mail claim lapsed before its outcome was recorded", metadata: metadata)
        }
        switch outcome {
        case .sent:
            Self.sent.increment()
            logger.debug("mail sent", metadata: metadata)
        case .retry(let next, let error):
            Self.retried.increment()
            logger.warning("mail delivery failed; will retry", metadata: metadata.merging(["mail.retry_at": "\(next)", "error": "\(error)"]) { $1 })
        case .failed(let error):
            Self.failed.increment()
            logger.error("mail delivery failed for good", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    // MARK: Quiet hours

    /// Releases, user by user, the held mail whose quiet period is over: what the recipient's
    /// current preferences still want goes out, alone or as one digest; the rest is dropped.
    private func releaseHeldMail() async throws {
        while true {
            let now = domain.clock()
            let users = try await domain.store.read { tx in try tx.usersWithReleasableMail(now: now, limit: 50) }
            if users.isEmpty { return }
            for user in users {
                try await release(userID: user, now: now)
            }
            if users.count < 50 { return }
        }
    }

    private func release(userID: Int64, now: Timestamp) async throws {
        let queue = domain.mailQueue(at: now)
        let digested = try await domain.store.write { tx -> Bool in
            let held = try tx.takeReleasableMail(userID: userID, now: now)
            guard !held.isEmpty else { return false }
            guard let recipient = try tx.mailRecipient(userID: userID) else {
                try tx.settleHeldMail(ids: held.map(\.id), state: .dropped, digestID: nil, at: now)
                return false
            }
            let wanted = held.filter { recipient.preferences.allows($0.mail.kind) && $0.mail.recipient == recipient.email }
            let unwanted = held.filter { !wanted.contains($0) }
            if !unwanted.isEmpty { try tx.settleHeldMail(ids: unwanted.map(\.id), state: .dropped, digestID: nil, at: now) }
            if wanted.count == 1 {
                try tx.settleHeldMail(ids: [wanted[0].id], state: .queued, digestID: nil, at: now)
                return false
            }
            guard wanted.count > 1 else { return false }
            let links = queue.links(userID: userID, kind: .digest, taskID: nil)
            let content = NotificationMail.digest(
                wanted.map { NotificationMail.DigestItem(subject: $0.mail.subject, taskLink: $0.mail.taskID.map { "\(queue.publicURL)/tasks/\($0)" }) },
                preferences: links.preferences, unsubscribe: links.unsubscribe
            )
            let digestID = try tx.enqueueMail(NewOutboxMail(
                messageID: queue.newMessageID(), userID: userID, kind: .digest, recipient: recipient.email,
                subject: content.subject, text: content.text, html: content.html,
                unsubscribeURL: queue.unsubscribeURL(userID: userID, kind: .digest), taskID: nil, holdUntil: nil, createdAt: now
            ))
            try tx.settleHeldMail(ids: wanted.map(\.id), state: .digested, digestID: digestID, at: now)
            return true
        }
        if digested { Self.digests.increment() }
    }

    /// The bare address of a `From` value (`Name <a@b>` → `a@b`), for `MAIL FROM`.
    public static func address(_ from: String) -> String {
        if from.hasSuffix(">"), let open = from.lastIndex(of: "<") {
            return String(from[from.index(after: open)..<from.index(before: from.endIndex)])
        }
        return from.trimmingSpaces()
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        TextRules.trimmed(self)
    }
}

/// A wake-up call that is never lost: a ``signal()`` before the ``wait(timeout:)`` makes that
/// wait return at once; several signals before it count as one.
public final class MailWakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns on a signal, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { self.signal() }
                }
                group.addTask {
                    await withCheckedContinuation { continuation in
                        let ready = self.state.withLock { state -> Bool in
                            if state.pending {
                                state.pending = false
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        } onCancel: {
            self.signal()
        }
        // A signal that raced the timer's own must not end the next wait early.
        state.withLock { $0.pending = false }
    }
}
