import ByteCoding
import JSON
public import Logging
import Metrics
import Synchronization

/// Delivers the push outbox (docs/push.md), as ``MailOutboxSender`` delivers mail.
///
/// Each round it releases held pushes whose quiet hours ended (one push alone, or several as
/// one summary per device), then claims due pushes for this round (``StoreWriter/claimDuePushes(claim:now:leaseUntil:limit:)``),
/// and for each: gives up one past its TTL; drops one about a task its recipient can no longer
/// see, or whose device is showing that task live (presence, on any instance); sends the rest,
/// several at a time, through the ``PushTransport``; then records every outcome of the batch
/// in one transaction: sent; 404/410 remove the subscription (and its pushes); other 4xx
/// (400, 403, 413) failed and logged; 408, 429, 5xx and no answer retried after exponential
/// backoff with jitter, or when `Retry-After` says if the push service gives one (and every
/// push to that service waits as long).
///
/// At least once: a claim lasts ``Settings/leaseMilliseconds``; an instance that dies after
/// the push service took a push but before recording it leaves the claim to lapse and the
/// push goes again. At most once is the rule otherwise: each push is claimed by one round of
/// one instance.
public final class PushOutboxSender: Sendable {
    public struct Settings: Sendable {
        /// Pushes claimed per round.
        public var batchSize = 256
        /// Sends in flight at once (the transport's own thread pool bounds them too).
        public var concurrency = 32
        /// How long a claim lasts: longer than a whole batch's sends with their timeouts.
        public var leaseMilliseconds: Int64 = 120_000
        /// Attempts before a push is given up (its TTL usually ends it first).
        public var maxAttempts = 20
        /// The first retry's delay; each later one doubles, up to ``maxBackoffMilliseconds``.
        public var baseBackoffMilliseconds: Int64 = 5_000
        public var maxBackoffMilliseconds: Int64 = 900_000
        /// Longest sleep between rounds.
        public var pollInterval: Duration = .seconds(5)

        public init() {}
    }

    private let domain: Domain
    private let transport: any PushTransport
    private let settings: Settings
    private let instance: String
    private let logger: Logger
    private let signal: MailWakeSignal
    private let rounds = Atomic<UInt64>(0)
    /// Push services that asked to be left alone (`Retry-After`), by origin: until when.
    private let waits = Mutex<[String: Timestamp]>([:])

    static let sent = Counter(label: "faros_push_sent_total")
    static let retried = Counter(label: "faros_push_retried_total")
    static let failed = Counter(label: "faros_push_failed_total")
    static let dropped = Counter(label: "faros_push_dropped_total")
    static let gone = Counter(label: "faros_push_subscriptions_gone_total")

    public init(
        domain: Domain, transport: any PushTransport, settings: Settings = Settings(), signal: MailWakeSignal = MailWakeSignal(),
        logger: Logger
    ) {
        self.domain = domain
        self.transport = transport
        self.settings = settings
        self.signal = signal
        self.instance = Base64URL.encode(RandomBytes.make(9))
        self.logger = logger
    }

    /// Wakes the sender for pushes just committed. Returns at once.
    public func wake() {
        signal.signal()
    }

    /// Sends until the task is cancelled.
    public func run() async {
        await OutboxLoop.run("push outbox", signal: signal, pollInterval: settings.pollInterval, clock: domain.clock, logger: logger) {
            try await round()
        }
    }

    /// One round: releases held pushes, then sends what is due until nothing due is left;
    /// returns when the next push falls due (nil when none waits). Tests drive it directly.
    @discardableResult
    public func round() async throws -> Timestamp? {
        try await releaseHeld()
        while true {
            let now = domain.clock()
            let lease = now.adding(milliseconds: settings.leaseMilliseconds)
            let claim = "\(instance)/\(rounds.add(1, ordering: .relaxed).newValue)"
            let limit = settings.batchSize
            let claimed = try await domain.store.write { tx in
                try tx.claimDuePushes(claim: claim, now: now, leaseUntil: lease, limit: limit)
            }
            if claimed.isEmpty { break }
            await deliver(claimed, claim: claim)
            if claimed.count < limit { break }
        }
        return try await domain.store.read { tx in try tx.nextPushDue() }
    }

    // MARK: Sending

    private enum Result: Sendable {
        case outcome(PushOutcome)
        case gone(subscriptionID: Int64, status: Int)
    }

    private func deliver(_ batch: [ClaimedPush], claim: String) async {
        let results = await withTaskGroup(of: (Int, Result).self) { group -> [Result?] in
            var results = [Result?](repeating: nil, count: batch.count)
            var inFlight = 0
            for (index, push) in batch.enumerated() {
                if inFlight == settings.concurrency, let (done, result) = await group.next() {
                    results[done] = result
                    inFlight -= 1
                }
                group.addTask { (index, await self.deliver(push)) }
                inFlight += 1
            }
            for await (done, result) in group { results[done] = result }
            return results
        }
        var outcomes: [(id: Int64, outcome: PushOutcome)] = []
        var gone: [Int64] = []
        for (push, result) in zip(batch, results) {
            switch result {
            case .outcome(let outcome)?: outcomes.append((push.outbox.id, outcome))
            case .gone(let subscriptionID, _)?: gone.append(subscriptionID)
            case nil: break
            }
        }
        let now = domain.clock()
        do {
            let removedGone = gone
            let outcomes = outcomes
            let recorded = try await domain.store.write { tx -> Int in
                // Gone devices first: their pushes go with them, and the rest of the claim is
                // then marked sent as a whole.
                for id in Set(removedGone) { try tx.deletePushSubscription(id: id, userID: nil) }
                return try tx.completePushes(outcomes, claim: claim, at: now)
            }
            if recorded < outcomes.count {
                logger.warning("push claims lapsed before their outcome was recorded", metadata: ["push.lapsed": "\(outcomes.count - recorded)"])
            }
        } catch {
            // The claims lapse and the pushes go again: at least once.
            logger.warning("push outcomes not recorded", metadata: ["push.count": "\(outcomes.count)", "error": "\(Domain.loggable(error))"])
        }
        for (push, result) in zip(batch, results) { log(push, result) }
    }

    private func deliver(_ claimed: ClaimedPush) async -> Result {
        let push = claimed.outbox
        let subscription = claimed.subscription
        let now = domain.clock()
        if now >= push.push.expiresAt { return .outcome(.failed(error: "expired: its TTL ran out before it could be sent")) }
        if !claimed.taskVisible { return .outcome(.dropped(reason: "the recipient can no longer see the task")) }
        if let taskID = push.push.taskID, let device = subscription.sessionID,
           domain.presence.isDeviceOn(taskID: taskID, userID: push.push.userID, device: device) {
            return .outcome(.dropped(reason: "the device is showing the task live"))
        }
        let origin = PushEndpoint.origin(subscription.endpoint) ?? subscription.endpoint
        if let until = waits.withLock({ $0[origin] }), until > now {
            return .outcome(retry(attempts: push.attempts, expiresAt: push.push.expiresAt, notBefore: until,
                                  error: "the push service asked to wait"))
        }
        let remaining = max(1, (push.push.expiresAt.milliseconds - now.milliseconds) / 1000)
        let result = await transport.send(OutgoingPush(
            endpoint: subscription.endpoint, p256dh: subscription.p256dh, auth: subscription.auth, payload: Array(push.push.payload.utf8),
            ttlSeconds: Int(min(Int64(domain.configuration.push.ttlSeconds), remaining)), urgency: push.push.urgency,
            topic: push.push.taskID.map { "task-\($0)" }
        ))
        switch result {
        case .accepted:
            return .outcome(.sent)
        case .gone(let status):
            return .gone(subscriptionID: subscription.id, status: status)
        case .rejected(let status, let reason):
            return .outcome(.failed(error: "HTTP \(status): \(reason)"))
        case .retry(let status, let retryAfter, let reason):
            var notBefore: Timestamp?
            if let retryAfter {
                let until = domain.clock().adding(milliseconds: min(retryAfter, settings.maxBackoffMilliseconds))
                notBefore = until
                waits.withLock { waits in
                    if (waits[origin]?.milliseconds ?? 0) < until.milliseconds { waits[origin] = until }
                }
            }
            let error = status.map { "HTTP \($0): \(reason)" } ?? reason
            return .outcome(retry(attempts: push.attempts, expiresAt: push.push.expiresAt, notBefore: notBefore, error: error))
        }
    }

    /// The last attempt, or a retry past the TTL, fails. When the push service said when to
    /// come back (`Retry-After`, in `notBefore`), the push is retried then, plus up to a tenth
    /// (at most a second) at random so that a whole batch does not return at one instant;
    /// otherwise after `base · 2^(attempts − 1)` (capped) less up to a fifth at random.
    func retry(attempts: Int, expiresAt: Timestamp, notBefore: Timestamp?, error: String) -> PushOutcome {
        if attempts >= settings.maxAttempts { return .failed(error: "gave up after \(attempts) attempts: \(error)") }
        let next: Timestamp
        if let notBefore {
            let wait = max(0, notBefore.milliseconds - domain.clock().milliseconds)
            next = notBefore.adding(milliseconds: Int64.random(in: 0...min(wait / 10, 1000)))
        } else {
            next = domain.clock().adding(milliseconds: OutboxLoop.backoffMilliseconds(
                attempts: attempts, base: settings.baseBackoffMilliseconds, maximum: settings.maxBackoffMilliseconds))
        }
        if next >= expiresAt { return .failed(error: "expired while retrying: \(error)") }
        return .retry(next: next, error: error)
    }

    private func log(_ push: ClaimedPush, _ result: Result?) {
        let metadata: Logger.Metadata = [
            "push.id": "\(push.outbox.id)", "push.kind": "\(push.outbox.push.kind.rawValue)", "push.attempt": "\(push.outbox.attempts)",
            "push.subscription": "\(push.subscription.id)",
        ]
        switch result {
        case .outcome(.sent)?:
            Self.sent.increment()
        case .outcome(.retry(let next, let error))?:
            Self.retried.increment()
            logger.info("push delivery failed; will retry", metadata: metadata.merging(["push.retry_at": "\(next)", "error": "\(error)"]) { $1 })
        case .outcome(.failed(let error))?:
            Self.failed.increment()
            logger.warning("push not delivered", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        case .outcome(.dropped(let reason))?:
            Self.dropped.increment()
            logger.debug("push dropped", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
        case .gone(_, let status)?:
            Self.gone.increment()
            logger.info("push subscription gone; removed", metadata: metadata.merging(["http.status": "\(status)"]) { $1 })
        case nil:
            break
        }
    }

    // MARK: Quiet hours

    /// Releases, user by user, held pushes whose quiet period is over: what the recipient's
    /// preferences still want goes out, one push alone or one summary per device.
    private func releaseHeld() async throws {
        while true {
            let now = domain.clock()
            let users = try await domain.store.read { tx in try tx.usersWithReleasablePushes(now: now, limit: 50) }
            if users.isEmpty { return }
            for user in users { try await release(userID: user, now: now) }
            if users.count < 50 { return }
        }
    }

    private func release(userID: Int64, now: Timestamp) async throws {
        let links = PushPayload.Links(publicURL: domain.configuration.publicURL)
        let ttl = Int64(domain.configuration.push.ttlSeconds) * 1000
        try await domain.store.write { tx in
            let held = try tx.takeReleasablePushes(userID: userID, now: now)
            guard !held.isEmpty else { return }
            let preferences = try tx.notificationPreferences(userID: userID)
            let unwanted = held.filter { !preferences.allowsPush($0.push.kind) }
            if !unwanted.isEmpty {
                try tx.settleHeldPushes(ids: unwanted.map(\.id), state: .dropped, summaryID: nil, reason: "switched off", at: now)
            }
            let wanted = held.filter { preferences.allowsPush($0.push.kind) }
            for (subscriptionID, pushes) in Dictionary(grouping: wanted, by: \.push.subscriptionID) {
                let pushes = pushes.sorted { $0.id < $1.id }
                if pushes.count == 1 {
                    try tx.settleHeldPushes(ids: [pushes[0].id], state: .queued, summaryID: nil, reason: nil, at: now)
                    continue
                }
                let items = pushes.compactMap { try? JSONParser().parse(Array($0.push.payload.utf8)) }
                let summaryID = try tx.enqueuePush(NewPush(
                    subscriptionID: subscriptionID, userID: userID, kind: .summary, taskID: nil, senderID: nil,
                    payload: PushPayload.summary(items, links: links), urgency: .low, holdUntil: nil,
                    expiresAt: now.adding(milliseconds: ttl), createdAt: now
                ))
                try tx.settleHeldPushes(ids: pushes.map(\.id), state: .summarized, summaryID: summaryID, reason: nil, at: now)
            }
        }
    }
}
