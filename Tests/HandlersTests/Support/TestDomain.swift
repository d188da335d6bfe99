import Credentials
import Handlers
import JSON
import JSONRPC
import Logging
import NIOPosix
import Synchronization
import SystemTime

/// A clock tests move by hand; starts at a fixed instant.
final class TestClock: Sendable {
    private let current: Mutex<Timestamp>

    init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-25T12:00:00Z")!) {
        self.current = Mutex(start)
    }

    var now: Timestamp { current.withLock { $0 } }

    func advance(milliseconds: Int64) {
        current.withLock { $0 = $0.adding(milliseconds: milliseconds) }
    }
}

/// Mail the domain sent, kept for assertions: the transport of the test domain's outbox sender.
/// `failNext` makes the next deliveries fail (transient or permanent) to test retries.
final class RecordingMailer: MailTransport {
    private let sent = Mutex<[OutgoingMail]>([])
    private let failures = Mutex<[MailDeliveryError]>([])

    var name: String { "recording" }

    func deliver(_ mail: OutgoingMail) async throws {
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        sent.withLock { $0.append(mail) }
    }

    func failNext(_ errors: [MailDeliveryError]) {
        failures.withLock { $0.append(contentsOf: errors) }
    }

    var messages: [MailMessage] { sent.withLock { $0.map(\.message) } }
    var outgoing: [OutgoingMail] { sent.withLock { $0 } }
}

/// Pushes the domain sent, kept for assertions: the transport of the test domain's push
/// sender. `answerNext` scripts the push service's next answers (410, 429 with Retry-After, …).
final class RecordingPushTransport: PushTransport {
    private let sent = Mutex<[OutgoingPush]>([])
    private let answers = Mutex<[PushResult]>([])

    var applicationServerKey: String { "BTestApplicationServerKey" }

    /// A real key check needs OpenSSL (the WebPush module tests it); here: 65 bytes, `0x04`
    /// first, and not all zeros after it.
    func isValidSubscriptionKey(_ p256dh: [UInt8]) -> Bool {
        p256dh.count == 65 && p256dh[0] == 4 && p256dh.dropFirst().contains { $0 != 0 }
    }

    func send(_ push: OutgoingPush) async -> PushResult {
        if let answer = answers.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            if case .accepted = answer { sent.withLock { $0.append(push) } }
            return answer
        }
        sent.withLock { $0.append(push) }
        return .accepted(status: 201)
    }

    func answerNext(_ results: [PushResult]) {
        answers.withLock { $0.append(contentsOf: results) }
    }

    var pushes: [OutgoingPush] { sent.withLock { $0 } }

    /// The JSON payloads sent to `endpoint`, oldest first.
    func payloads(to endpoint: String) -> [JSONValue] {
        pushes.filter { $0.endpoint == endpoint }.compactMap { try? JSONParser().parse($0.payload) }
    }
}

/// A domain over `store` with the cheapest password cost (tests hash a lot), a hand-moved clock,
/// a recording mailer and real rate limits.
struct TestDomain {
    let domain: Domain
    let clock: TestClock
    let mailer: RecordingMailer
    let registry: MethodRegistry<ClientSession>
    let engine: RPCEngine<ClientSession>
    /// How many times the domain called `activityCommitted`.
    let commits: CommitCounter
    /// Delivers the outbox to ``mailer``: one round after every commit that wrote mail (the
    /// server's sender loop does the same on its wake signal).
    let sender: MailOutboxSender
    /// Delivers the push outbox to ``pusher``, one round after every commit that wrote pushes.
    let pushSender: PushOutboxSender
    let pusher: RecordingPushTransport

    init(
        store: any Store, rateLimits: Bool = true, presenceBackplane: (any PresenceBackplane)? = nil,
        configure: (inout DomainConfiguration) -> Void = { _ in }
    ) {
        let clock = TestClock()
        let mailer = RecordingMailer()
        var configuration = DomainConfiguration(publicURL: "http://faros.test")
        configuration.rateLimitsEnabled = rateLimits
        configure(&configuration)
        let commits = CommitCounter()
        let senderBox = Mutex<MailOutboxSender?>(nil)
        let pushBox = Mutex<PushOutboxSender?>(nil)
        let pusher = RecordingPushTransport()
        self.pusher = pusher
        self.clock = clock
        self.mailer = mailer
        self.commits = commits
        self.domain = Domain(
            store: store,
            hasher: FastPasswordHasher(),
            signer: TokenSigner(secret: Array(repeating: 7, count: 32)),
            oneTimeTokens: OneTimeTokenIssuer(),
            rateLimiter: InProcessRateLimiter(),
            zones: ZoneCache(source: ZoneDirectory()),
            presenceBackplane: presenceBackplane,
            configuration: configuration,
            clock: { clock.now },
            logger: Logger(label: "faros.handlers.tests", factory: { _ in SwiftLogNoOpLogHandler() }),
            activityCommitted: { commits.increment() },
            mailCommitted: { senderBox.withLock { $0 }.map { sender in Task { try? await sender.round() } } },
            pushTransport: pusher,
            pushCommitted: { pushBox.withLock { $0 }.map { sender in Task { try? await sender.round() } } }
        )
        var mailSettings = MailOutboxSender.Settings()
        mailSettings.baseBackoffMilliseconds = 1000
        let sender = MailOutboxSender(
            domain: domain, transport: mailer, from: "Faros <faros@faros.test>", settings: mailSettings,
            logger: Logger(label: "faros.mail.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        self.sender = sender
        senderBox.withLock { $0 = sender }
        var pushSettings = PushOutboxSender.Settings()
        pushSettings.baseBackoffMilliseconds = 1000
        let pushSender = PushOutboxSender(
            domain: domain, transport: pusher, settings: pushSettings,
            logger: Logger(label: "faros.push.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        self.pushSender = pushSender
        pushBox.withLock { $0 = pushSender }
        self.registry = domain.registry()
        self.engine = RPCEngine(registry: registry)
        // Presence's consumer delivers its notifications; tests move the clock and call tick().
        Task { [presence = domain.presence] in await presence.run(timers: false) }
    }

    /// A new connected client at `address`.
    func client(address: String = "192.0.2.1") -> TestClient {
        TestClient(engine: engine, address: address, sessions: domain.sessions)
    }
}

/// Counts calls of `Domain.activityCommitted`, and runs ``onCommit`` on each (a test that needs
/// to see the state at the moment a change is announced, as the event dispatcher does).
final class CommitCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let hook = Mutex<(@Sendable () -> Void)?>(nil)

    func increment() {
        count.add(1, ordering: .relaxed)
        hook.withLock { $0 }?()
    }

    /// Runs `body` synchronously inside every later `activityCommitted`.
    func onCommit(_ body: @escaping @Sendable () -> Void) { hook.withLock { $0 = body } }

    var value: Int { count.load(ordering: .relaxed) }
}

/// Notifications a test client received, in order.
final class NotificationLog: Sendable {
    private let entries = Mutex<[(method: String, params: JSONValue)]>([])

    func append(_ method: String, _ params: JSONValue) {
        entries.withLock { $0.append((method, params)) }
    }

    var all: [(method: String, params: JSONValue)] { entries.withLock { $0 } }
}

/// One connection: calls go through the real engine (envelope, params decoding, errors) and
/// notifications are recorded.
final class TestClient: Sendable {
    private static let nextID = Atomic<UInt64>(1)
    let session: ClientSession
    let log = NotificationLog()
    private let engine: RPCEngine<ClientSession>

    init(engine: RPCEngine<ClientSession>, address: String, sessions: SessionDirectory) {
        self.engine = engine
        let log = self.log
        self.session = ClientSession(
            connectionID: Self.nextID.add(1, ordering: .relaxed).oldValue,
            clientAddress: address,
            logger: Logger(label: "faros.handlers.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        ) { method, params in
            log.append(method, params)
        }
    }

    /// Notifications received so far.
    var notifications: [(method: String, params: JSONValue)] { log.all }

    /// Calls `method` and returns its result, or throws the ``RPCError`` it answered.
    @discardableResult
    func call(_ method: String, _ params: JSONValue? = nil) async throws(RPCError) -> JSONValue {
        var request: JSONObject = ["jsonrpc": "2.0", "id": 1, "method": .string(method)]
        if let params { request.append(key: "params", value: params) }
        let bytes = JSONWriter.serialize(.object(request))
        guard let answer = await engine.handle(bytes, context: session) else {
            throw RPCError.internalError()
        }
        let value: JSONValue
        do {
            value = try JSONParser().parse(answer)
        } catch {
            throw RPCError.internalError(underlying: error)
        }
        if let error = value["error"] {
            throw RPCError(
                RPCError.Code(rawValue: error["code"]?.numberValue?.int ?? 0),
                message: error["message"]?.stringValue,
                data: error["data"]
            )
        }
        return value["result"] ?? .null
    }
}
