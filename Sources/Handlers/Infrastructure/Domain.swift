public import Logging
import Synchronization

/// Settings the domain reads.
public struct DomainConfiguration: Sendable {
    /// How long an access token lives (`FAROS_TOKEN_TTL`, default 1 h).
    public var tokenTTLMilliseconds: Int64 = 3_600_000
    /// Base URL of mail links (`FAROS_PUBLIC_URL`), without a trailing slash.
    public var publicURL: String {
        get { publicURLSource.current }
        set { publicURLSource = PublicURL(newValue) }
    }
    /// Where ``publicURL`` is read from: shared, so a server started on port 0 can fill in the
    /// real port once it is bound (before it accepts anyone).
    public var publicURLSource: PublicURL
    /// `FAROS_RATE_LIMITS`: off disables every domain rate limit.
    public var rateLimitsEnabled = true
    /// How long a `requestKey` is remembered.
    public var requestKeyLifetimeMilliseconds: Int64 = 86_400_000
    /// Host part of generated `Message-ID`s.
    public var mailDomain: String = "faros.invalid"
    /// Live events: subscriptions and replay.
    public var events = Events()
    /// How much notification mail changes may cause.
    public var notificationMail = NotificationMailLimits()
    /// What one user may store.
    public var quotas = Quotas()
    /// Web Push (docs/push.md).
    public var push = PushSettings()

    /// Per-user write quotas: a script calling at the session rate must not be able to fill the
    /// disk. Each is far above what one person writes by hand and counted inside the write's
    /// transaction; over it the write is refused with -32013 and `data.limit`
    /// (protocol/README.md, "Limits").
    public struct Quotas: Sendable, Hashable {
        /// Comments one user has written and not deleted (`FAROS_MAX_COMMENTS_PER_USER`,
        /// default 10,000): years of daily discussion.
        public var commentsPerUser = 10_000
        /// Shares one user has granted on their tasks (`FAROS_MAX_SHARES_PER_USER`, default
        /// 10,000): a large team on every task of a busy owner.
        public var sharesPerUser = 10_000
        /// Results of calls with a `requestKey` one user has stored within the key lifetime
        /// (`FAROS_MAX_STORED_RESULTS_PER_USER`, default 20,000): an offline client replaying a
        /// day's writes, while the session call rate could store millions.
        public var storedResultsPerUser = 20_000

        public init() {}
    }

    /// Settings of `events.subscribe`.
    public struct Events: Sendable {
        /// Topics one session may hold (`FAROS_MAX_TOPICS`, default 1000): far more than a
        /// client showing a screenful of tasks needs, few enough that one session's
        /// subscriptions stay small.
        public var maxTopics = 1000
        /// How far back `since` may reach (`FAROS_REPLAY_WINDOW`, default 24 h): a client away
        /// longer reloads its state instead (`resync: true`).
        public var replayWindowMilliseconds: Int64 = 86_400_000
        /// Most events one replay sends (`FAROS_REPLAY_MAX_EVENTS`, default 10,000): past that,
        /// reloading is cheaper for both sides than streaming the history.
        public var replayMaxEvents = 10_000
        /// Most bytes of notifications one replay sends (`FAROS_REPLAY_MAX_BYTES`, default 2 MiB):
        /// past that, nothing is replayed and the answer says `resync: true`. Half the outbound
        /// buffer (4 MiB), so a replay alone never cuts its session off as a slow consumer; and
        /// what one call makes the server hold stays bounded however large the events are
        /// (10,000 events with long descriptions were tens of MB).
        public var replayMaxBytes = 2 << 20
        /// Events read from the log at a time during a replay: what one call holds beyond
        /// ``replayMaxBytes`` while it serializes. Internal; tests make it small.
        var replayPageEvents = 256

        public init() {}
    }

    public init(publicURL: String) {
        self.publicURLSource = PublicURL(publicURL)
    }
}

/// Everything the method handlers use, built once by the executable and shared by every session.
public struct Domain: Sendable {
    public var store: any Store
    public var hasher: any PasswordHashing
    public var signer: any TokenSigning
    public var oneTimeTokens: any OneTimeTokens
    public var rateLimiter: any RateLimiter
    /// Time zones of quiet hours, read once each from the zone source.
    public var zones: ZoneCache
    public var sessions: SessionDirectory
    /// This instance's event subscriptions.
    public var hub: EventHub
    /// Who is on which task (in process, or shared through a backplane).
    public var presence: PresenceService
    public var configuration: DomainConfiguration
    /// The current time: the system clock in production (the executable passes it), a clock of
    /// their own in tests.
    public var clock: @Sendable () -> Timestamp
    public var logger: Logger
    /// Called after every successful write that logged activity, once it has committed (never
    /// inside the transaction): the executable wires it to the sequencer, which then numbers and
    /// publishes the new rows at once instead of on its next timer tick (docs/events.md §2).
    /// Must return quickly. Called after a `requestKey` replay too, which is harmless (the
    /// sequencer finds nothing new).
    public var activityCommitted: @Sendable () -> Void
    /// Called after every successful write that put mail in the outbox, once it has committed:
    /// the executable wires it to the mail sender, which then sends at once instead of on its
    /// next poll. Must return quickly.
    public var mailCommitted: @Sendable () -> Void
    /// Encrypts and posts pushes; nil on a server that sends none (the `push.*` methods are
    /// not there then).
    public var pushTransport: (any PushTransport)?
    /// Called after every successful write that put pushes in the outbox, once it has
    /// committed: wakes the push sender. Must return quickly.
    public var pushCommitted: @Sendable () -> Void

    public init(
        store: any Store,
        hasher: any PasswordHashing,
        signer: any TokenSigning,
        oneTimeTokens: any OneTimeTokens,
        rateLimiter: any RateLimiter,
        zones: ZoneCache,
        sessions: SessionDirectory? = nil,
        hub: EventHub = EventHub(),
        presenceBackplane: (any PresenceBackplane)? = nil,
        presenceSettings: PresenceService.Settings = PresenceService.Settings(),
        configuration: DomainConfiguration,
        clock: @escaping @Sendable () -> Timestamp,
        logger: Logger,
        activityCommitted: @escaping @Sendable () -> Void = {},
        mailCommitted: @escaping @Sendable () -> Void = {},
        pushTransport: (any PushTransport)? = nil,
        pushCommitted: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.hasher = hasher
        self.signer = signer
        self.oneTimeTokens = oneTimeTokens
        self.rateLimiter = rateLimiter
        self.zones = zones
        self.sessions = sessions ?? SessionDirectory(clock: clock)
        self.hub = hub
        self.presence = PresenceService(
            backplane: presenceBackplane, hub: hub, store: store, settings: presenceSettings, clock: clock, logger: logger)
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.activityCommitted = activityCommitted
        self.mailCommitted = mailCommitted
        self.pushTransport = pushTransport
        self.pushCommitted = pushCommitted
    }
}

/// The base URL users reach the server at, readable from any thread and set once more when the
/// port is only known after binding (`--port 0`).
public final class PublicURL: Sendable {
    private let value: Mutex<String>

    public init(_ url: String) {
        self.value = Mutex(url)
    }

    public var current: String { value.withLock { $0 } }

    public func set(_ url: String) {
        value.withLock { $0 = url }
    }
}
