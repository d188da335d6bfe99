import JSON
import JSONRPC
public import Logging
import Synchronization

/// Who is on which task, on this instance and (with a ``PresenceBackplane``) on every other one,
/// and the `presence.*` notifications that follow from it (docs/presence.md).
///
/// Changes made by this instance's sessions apply to the roster at once (a call answers from
/// it), then go out in order from one consumer task: notifications to the local sessions that
/// may see them, and through a serial writer to the backplane. Other instances' changes arrive
/// on the backplane's channel and go through the same consumer. Without a backplane everything
/// stays in the process.
public final class PresenceService: Sendable {
    /// The settings of presence (protocol/README.md, "Presence").
    public struct Settings: Sendable {
        /// With Redis: how soon a stopped instance's members leave everywhere else
        /// (`FAROS_PRESENCE_TTL`, default 30 s). Heartbeats go every sixth of it and last two
        /// thirds of it; another instance notices a missing heartbeat within a sixth.
        public var ttlMilliseconds: Int64 = 30_000
        /// How long a non-empty state lasts unless sent again (`FAROS_PRESENCE_STATE_LIFETIME`,
        /// default 10 s): "typing" ends by itself when the client stops saying it.
        public var stateLifetimeMilliseconds: Int64 = 10_000
        /// Tasks one session may be on at once.
        public var maxTasksPerSession = 20
        /// Bytes of one session's serialized state.
        public var maxStateBytes = 1024
        /// Least time between two state changes of one session going out (two a second).
        public var updateIntervalMilliseconds: Int64 = 500
        /// `presence.enter` and `presence.leave` per session: a refill rate and a burst.
        public var changesPerSecond = 10
        public var changesBurst = 20
        /// How long this instance trusts its copy of who may view a task; share and delete
        /// events clear it sooner.
        var viewersLifetimeMilliseconds: Int64 = 30_000

        public init() {}
    }

    /// This process among the instances (random per start, so a restarted one never inherits
    /// the entries of the one that crashed).
    public let instanceID: String
    let settings: Settings
    private let backplane: (any PresenceBackplane)?
    private let hub: EventHub
    private let store: any Store
    private let clock: @Sendable () -> Timestamp
    private let logger: Logger
    private let state = Mutex(State())
    private let work: AsyncStream<Work>
    private let workSink: AsyncStream<Work>.Continuation
    private let writes: AsyncStream<Write>
    private let writeSink: AsyncStream<Write>.Continuation

    struct State {
        var roster = PresenceRoster()
        /// This instance's sessions that used presence, by connection.
        var local: [UInt64: Local] = [:]
        /// Who may view a task, read from the store, with when it was read.
        var viewers: [Int64: (users: Set<Int64>, readAt: Int64)] = [:]
        /// False while the backplane failed and has not been resynchronized since.
        var healthy = true
        /// Local entries the timer must look at: a state is held back, or a non-empty one will
        /// expire. The rest cost the timer nothing.
        var timed: Set<LocalKey> = []
    }

    struct LocalKey: Hashable {
        var connection: UInt64
        var taskID: Int64
    }

    struct Local {
        weak var client: ClientSession?
        var userID: Int64
        var tasks: [Int64: LocalTask] = [:]
        var tokens: Double
        var tokensAt: Int64
    }

    struct LocalTask {
        /// A state waiting for the update interval to pass.
        var pending: JSONValue?
        var lastSent: Int64
        /// When the client last sent a non-empty state (it expires from then).
        var stateSetAt: Int64
    }

    enum Work: Sendable {
        case deliver(taskID: Int64, PresenceTransition)
        case remote([UInt8])
        /// A resync is about to read the snapshot: hold the other instances' messages from now
        /// until its result, and apply them after it (a message newer than the snapshot must not
        /// be overwritten by it).
        case beginResync
        /// A resync's view of the other instances' entries (nil: it failed, nothing to replace).
        case replaceRemote([(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry)]?)
        case removeInstance(String)
        case barrier(CheckedContinuation<Void, Never>)
    }

    enum Write: Sendable {
        case apply(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry?)
        case resync
        case delete([(taskID: Int64, field: String)])
        case barrier(CheckedContinuation<Void, Never>)
    }

    public init(
        backplane: (any PresenceBackplane)?, hub: EventHub, store: any Store, settings: Settings = Settings(),
        clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) {
        self.instanceID = Self.randomInstanceID()
        self.backplane = backplane
        self.hub = hub
        self.store = store
        self.settings = settings
        self.clock = clock
        self.logger = logger
        (self.work, self.workSink) = AsyncStream.makeStream(of: Work.self)
        (self.writes, self.writeSink) = AsyncStream.makeStream(of: Write.self)
        hub.observeAccess { [weak self] change in self?.accessChanged(change) }
    }

    private static func randomInstanceID() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 36) + String(generator.next() as UInt32, radix: 36)
    }

    // MARK: Running

    /// Runs until cancelled: delivers changes, writes to the backplane, and (with `timers`)
    /// flushes coalesced states, expires old ones, and keeps the heartbeat and the reaper going.
    public func run(timers: Bool = true) async {
        // The consumer and the writer are not cancelled: on shutdown their streams finish, and
        // they drain what is queued (the leaves of the connections the server just closed reach
        // the other instances now, not after the TTL).
        let consumer = Task { await self.consume() }
        let writer = Task { await self.writeLoop() }
        if self.backplane != nil { self.writeSink.yield(.resync) }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                // Holds the group (and the cancellation handler) until cancelled.
                group.addTask { while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) } }
                if self.backplane != nil {
                    group.addTask { await self.listen() }
                }
                if timers {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(100))
                            self.tick()
                        }
                    }
                    if self.backplane != nil {
                        group.addTask { await self.heartbeatLoop() }
                    }
                }
                await group.waitForAll()
            }
        } onCancel: {
            self.workSink.finish()
            self.writeSink.finish()
        }
        await consumer.value
        await writer.value
    }

    /// Waits until every change made so far went out to the local sessions and the backplane.
    func settled() async {
        await withCheckedContinuation { self.workSink.yield(.barrier($0)) }
        if self.backplane != nil {
            await withCheckedContinuation { self.writeSink.yield(.barrier($0)) }
            await withCheckedContinuation { self.workSink.yield(.barrier($0)) }
        }
    }

    /// True while the backplane is down (answers are this instance's view).
    public var isPartial: Bool {
        guard let backplane = self.backplane else { return false }
        return !backplane.isConnected || !self.state.withLock { $0.healthy }
    }

    // MARK: Calls

    /// Puts `client` (signed in as `userID`) on `taskID` with `state`, or replaces its state
    /// there. The caller has checked view access and read the user's name, avatar and the task's
    /// viewers; without `viewers` (a state change of a session already on the task) it only
    /// replaces the state, and answers nil when the session is not on the task after all.
    func enter(
        _ client: ClientSession, userID: Int64, username: String, avatarURL: String?, taskID: Int64, state: JSONValue,
        viewers: Set<Int64>?, rateLimited: Bool
    ) throws(RPCError) -> Timestamp? {
        let now = self.clock()
        let connection = client.connectionID
        let id = self.ownID(connection)
        let entered: Timestamp? = try self.state.withLock { (s: inout State) throws(RPCError) -> Timestamp? in
            if let viewers { s.viewers[taskID] = (viewers, now.milliseconds) }
            var local = s.local[connection] ?? Local(
                client: client, userID: userID, tokens: Double(self.settings.changesBurst), tokensAt: now.milliseconds)
            if local.userID != userID {
                self.removeAll(connection: connection, in: &s)
                local = Local(client: client, userID: userID, tokens: local.tokens, tokensAt: local.tokensAt)
            }
            if rateLimited { try self.take(&local, now: now.milliseconds) }
            defer { s.local[connection] = local }
            if var task = local.tasks[taskID], let entry = s.roster.entry(taskID: taskID, id: id) {
                // Already there: a new state, coalesced.
                if self.isNonEmpty(state) { task.stateSetAt = now.milliseconds }
                if now.milliseconds - task.lastSent >= self.settings.updateIntervalMilliseconds {
                    task.pending = nil
                    if entry.state != state {
                        task.lastSent = now.milliseconds
                        self.set(taskID: taskID, id: id, entry: self.with(entry, state: state, at: now), in: &s)
                    }
                } else if entry.state != state || task.pending != nil {
                    task.pending = state
                }
                local.tasks[taskID] = task
                if task.pending != nil || self.isNonEmpty(state) { s.timed.insert(LocalKey(connection: connection, taskID: taskID)) }
                return entry.since
            }
            guard viewers != nil else { return nil }
            guard local.tasks.count < self.settings.maxTasksPerSession else {
                throw RPCError.tooLarge(limit: self.settings.maxTasksPerSession)
            }
            let entry = PresenceEntry(
                userID: userID, username: username, avatarURL: avatarURL, since: now, state: state, changedAt: now,
                device: client.principal?.sessionID)
            local.tasks[taskID] = LocalTask(pending: nil, lastSent: now.milliseconds, stateSetAt: now.milliseconds)
            if self.isNonEmpty(state) { s.timed.insert(LocalKey(connection: connection, taskID: taskID)) }
            self.set(taskID: taskID, id: id, entry: entry, in: &s)
            return now
        }
        client.onPresenceExit { [weak self] client in self?.leaveAll(client.connectionID) }
        // A close or sign-out that raced the call has run its exit already: undo the entry.
        if client.isClosed || client.principal?.userID != userID {
            self.leaveAll(connection)
        }
        return entered
    }

    /// Whether `client`, as `userID`, is on `taskID` now: a new state then needs no access
    /// check (losing view takes it off at once).
    func isOn(_ client: ClientSession, userID: Int64, taskID: Int64) -> Bool {
        self.state.withLock { s in
            guard let local = s.local[client.connectionID], local.userID == userID else { return false }
            return local.tasks[taskID] != nil
        }
    }

    /// Takes `client` off `taskID`; false when it was not there.
    func leave(_ client: ClientSession, taskID: Int64, rateLimited: Bool) throws(RPCError) -> Bool {
        let now = self.clock().milliseconds
        let connection = client.connectionID
        return try self.state.withLock { (s: inout State) throws(RPCError) -> Bool in
            guard var local = s.local[connection] else { return false }
            if rateLimited { try self.take(&local, now: now) }
            let present = local.tasks.removeValue(forKey: taskID) != nil
            s.local[connection] = local
            if present {
                self.remove(taskID: taskID, id: self.ownID(connection), in: &s)
            }
            return present
        }
    }

    /// Whether `userID` has a session on `device` (signed-in session) on `taskID` now, on any
    /// instance: that device is showing the task live.
    public func isDeviceOn(taskID: Int64, userID: Int64, device: String) -> Bool {
        self.state.withLock { $0.roster.hasDevice(taskID: taskID, userID: userID, device: device) }
    }

    /// The people on `taskID` now.
    func members(taskID: Int64) -> [PresenceMember] {
        self.state.withLock { $0.roster.members(taskID: taskID) }
    }

    /// The tasks among `taskIDs` with anyone on them, and who.
    func overview(_ taskIDs: [Int64]) -> [(taskID: Int64, userIDs: [Int64])] {
        self.state.withLock { s in
            taskIDs.compactMap { id in
                let users = s.roster.userIDs(taskID: id)
                return users.isEmpty ? nil : (id, users)
            }
        }
    }

    /// The connection closed, signed out, or signed in as someone else: off every task.
    func leaveAll(_ connection: UInt64) {
        self.state.withLock { s in self.removeAll(connection: connection, in: &s) }
    }

    /// How many of this instance's sessions are on a task (tests, metrics).
    var localEntryCount: Int { self.state.withLock { $0.local.values.reduce(0) { $0 + $1.tasks.count } } }

    // MARK: Timers

    /// Sends coalesced states whose interval has passed and expires states not sent again
    /// within their lifetime. The server calls it ten times a second; tests call it after
    /// moving their clock.
    func tick() {
        let now = self.clock()
        self.state.withLock { s in
            for key in s.timed {
                let id = self.ownID(key.connection)
                guard var task = s.local[key.connection]?.tasks[key.taskID], var entry = s.roster.entry(taskID: key.taskID, id: id) else {
                    s.timed.remove(key)
                    continue
                }
                var next: JSONValue?
                if let pending = task.pending {
                    guard now.milliseconds - task.lastSent >= self.settings.updateIntervalMilliseconds else { continue }
                    next = pending
                    task.pending = nil
                } else if self.isNonEmpty(entry.state), now.milliseconds - task.stateSetAt >= self.settings.stateLifetimeMilliseconds {
                    next = .object(JSONObject())
                }
                if let next, next != entry.state {
                    task.lastSent = now.milliseconds
                    entry = self.with(entry, state: next, at: now)
                    self.set(taskID: key.taskID, id: id, entry: entry, in: &s)
                }
                s.local[key.connection]?.tasks[key.taskID] = task
                if task.pending == nil, !self.isNonEmpty(entry.state) { s.timed.remove(key) }
            }
        }
    }

    // MARK: Access

    /// Someone lost or gained view of a task, or it is gone: this instance forgets who may view
    /// it, and takes off it the local sessions that may not any more.
    private func accessChanged(_ change: EventHub.AccessChange) {
        self.state.withLock { s in
            switch change {
            case .gained(let taskID):
                s.viewers[taskID] = nil
            case .lost(let taskID, let userID):
                s.viewers[taskID] = nil
                self.removeLocal(taskID: taskID, userID: userID, in: &s)
            case .taskGone(let taskID):
                s.viewers[taskID] = nil
                self.removeLocal(taskID: taskID, userID: nil, in: &s)
            }
        }
    }

    /// Takes this instance's sessions off `taskID` (only `userID`'s when given): found through
    /// the task's entries, not by walking every session.
    private func removeLocal(taskID: Int64, userID: Int64?, in s: inout State) {
        for (connection, user) in s.roster.connections(taskID: taskID, instance: self.instanceID) where userID == nil || user == userID {
            s.local[connection]?.tasks[taskID] = nil
            self.remove(taskID: taskID, id: self.ownID(connection), in: &s)
        }
    }

    /// This instance's entry id for `connection`.
    private func ownID(_ connection: UInt64) -> PresenceEntry.ID {
        PresenceEntry.ID(instance: self.instanceID, connection: connection)
    }

    // MARK: Roster changes (under the lock)

    private func set(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry, in s: inout State) {
        for change in s.roster.set(taskID: taskID, id: id, entry: entry) {
            self.workSink.yield(.deliver(taskID: taskID, change))
        }
        if id.instance == self.instanceID, self.backplane != nil {
            self.writeSink.yield(.apply(taskID: taskID, id: id, entry: entry))
        }
    }

    private func remove(taskID: Int64, id: PresenceEntry.ID, in s: inout State) {
        if let change = s.roster.remove(taskID: taskID, id: id) {
            self.workSink.yield(.deliver(taskID: taskID, change))
        }
        if id.instance == self.instanceID, self.backplane != nil {
            self.writeSink.yield(.apply(taskID: taskID, id: id, entry: nil))
        }
    }

    private func removeAll(connection: UInt64, in s: inout State) {
        guard let local = s.local.removeValue(forKey: connection) else { return }
        let id = self.ownID(connection)
        for taskID in local.tasks.keys { self.remove(taskID: taskID, id: id, in: &s) }
    }

    private func take(_ local: inout Local, now: Int64) throws(RPCError) {
        let burst = Double(self.settings.changesBurst)
        let rate = Double(self.settings.changesPerSecond)
        local.tokens = min(burst, local.tokens + Double(max(0, now - local.tokensAt)) * rate / 1000)
        local.tokensAt = now
        guard local.tokens >= 1 else {
            throw RPCError.rateLimited(retryAfterMs: Int(((1 - local.tokens) * 1000 / rate).rounded(.up)))
        }
        local.tokens -= 1
    }

    private func with(_ entry: PresenceEntry, state: JSONValue, at now: Timestamp) -> PresenceEntry {
        var entry = entry
        entry.state = state
        entry.changedAt = max(now, entry.changedAt)
        return entry
    }

    private func isNonEmpty(_ state: JSONValue) -> Bool { state.objectValue?.isEmpty == false }

    // MARK: Delivery

    private func consume() async {
        var held: [[UInt8]]?
        for await item in self.work {
            switch item {
            case .deliver(let taskID, let change):
                await self.deliver(taskID: taskID, change)
            case .remote(let bytes):
                if held != nil {
                    held!.append(bytes)
                } else {
                    await self.applyRemote(bytes)
                }
            case .beginResync:
                held = held ?? []
            case .replaceRemote(let entries):
                if let entries {
                    let changes = self.state.withLock { s in self.replaceRemote(entries, in: &s) }
                    for (taskID, change) in changes { await self.deliver(taskID: taskID, change) }
                }
                for bytes in held ?? [] { await self.applyRemote(bytes) }
                held = nil
            case .removeInstance(let instance):
                let changes = self.state.withLock { $0.roster.removeInstance(instance) }
                if !changes.isEmpty {
                    self.logger.info("Presence of a stopped instance removed", metadata: ["faros.instance": "\(instance)", "presence.changes": "\(changes.count)"])
                }
                for (taskID, change) in changes { await self.deliver(taskID: taskID, change) }
            case .barrier(let continuation):
                continuation.resume()
            }
        }
    }

    /// Applies another instance's message (this instance's own come back too and are skipped:
    /// they were applied when made).
    private func applyRemote(_ bytes: [UInt8]) async {
        guard let message = PresenceWire.decodeMessage(bytes) else {
            self.logger.warning("Malformed presence message", metadata: ["bus.message.bytes": "\(bytes.count)"])
            return
        }
        guard message.id.instance != self.instanceID else { return }
        let changes: [PresenceTransition] = self.state.withLock { s in
            if let entry = message.entry { return s.roster.set(taskID: message.taskID, id: message.id, entry: entry) }
            return s.roster.remove(taskID: message.taskID, id: message.id).map { [$0] } ?? []
        }
        for change in changes { await self.deliver(taskID: message.taskID, change) }
    }

    /// Sends one change to every local session that may see it: signed in as someone who may
    /// view the task, and on it or holding `task:<id>` or `tasks`.
    private func deliver(taskID: Int64, _ change: PresenceTransition) async {
        guard let viewers = await self.viewers(taskID: taskID) else { return }
        let present: [ClientSession] = self.state.withLock { s in
            s.roster.connections(taskID: taskID, instance: self.instanceID).compactMap { connection, userID in
                viewers.contains(userID) ? s.local[connection]?.client : nil
            }
        }
        var sent: Set<UInt64> = []
        let bytes = change.notification(taskID: taskID)
        for client in present where sent.insert(client.connectionID).inserted {
            client.notifySerialized(bytes)
        }
        for client in self.hub.subscribers(of: viewers) where !sent.contains(client.connectionID) {
            guard let userID = client.principal?.userID, viewers.contains(userID), client.events.sees(taskID: taskID, userID: userID)
            else { continue }
            sent.insert(client.connectionID)
            client.notifySerialized(bytes)
        }
    }

    /// Who may view `taskID`: from this instance's copy while fresh, else from the store. Nil
    /// when the store cannot say now (the change then reaches nobody here; a client's next
    /// `presence.list` shows it).
    private func viewers(taskID: Int64) async -> Set<Int64>? {
        let now = self.clock().milliseconds
        if let cached = self.state.withLock({ $0.viewers[taskID] }), now - cached.readAt < self.settings.viewersLifetimeMilliseconds {
            return cached.users
        }
        do {
            let audience = try await self.store.read { tx in try tx.taskAudience(taskID: taskID) }
            let users = Set(audience.map(\.userID))
            self.state.withLock { s in
                if s.viewers.count >= 10_000 { s.viewers.removeAll(keepingCapacity: true) }
                s.viewers[taskID] = (users, now)
            }
            return users
        } catch {
            self.logger.warning("Presence audience unreadable", metadata: ["task.id": "\(taskID)", "error": "\(error)"])
            return nil
        }
    }

    // MARK: Backplane

    private func listen() async {
        guard let backplane = self.backplane else { return }
        let sink = self.workSink
        let writes = self.writeSink
        let subscription = await backplane.subscribe { delivery in
            switch delivery {
            case .message(let bytes): sink.yield(.remote(bytes))
            case .resumed: writes.yield(.resync)
            }
        }
        // Held until cancelled.
        await withTaskCancellationHandler {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        } onCancel: {
            subscription.cancel()
        }
    }

    private func writeLoop() async {
        guard let backplane = self.backplane else { return }
        let ttl = self.settings.ttlMilliseconds
        for await item in self.writes {
            switch item {
            case .apply(let taskID, let id, let entry):
                guard self.state.withLock({ $0.healthy }) else { continue }  // the resync writes it
                do {
                    try await backplane.apply(
                        taskID: taskID, field: id.field, value: entry.map(PresenceWire.entryBytes),
                        message: PresenceWire.message(taskID: taskID, id: id, entry: entry), ttlMilliseconds: ttl)
                } catch {
                    self.markUnhealthy(error)
                }
            case .resync:
                await self.resync(backplane)
            case .delete(let fields):
                try? await backplane.delete(fields)
            case .barrier(let continuation):
                continuation.resume()
            }
        }
    }

    /// Makes the backplane agree with this instance again (at start, and after an outage):
    /// reads every entry, rewrites this instance's own (publishing each, so the others have
    /// them), deletes its own stale ones (publishing each delete), and hands the others' to the
    /// consumer.
    private func resync(_ backplane: any PresenceBackplane) async {
        let ttl = self.settings.ttlMilliseconds
        self.workSink.yield(.beginResync)
        do {
            let snapshot = try await backplane.snapshot()
            let own: [Int64: [PresenceEntry.ID: PresenceEntry]] = self.state.withLock { s in
                s.roster.allEntries.compactMapValues { entries in
                    let mine = entries.filter { $0.key.instance == self.instanceID }
                    return mine.isEmpty ? nil : mine
                }
            }
            var remote: [(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry)] = []
            var stale: [(taskID: Int64, field: String)] = []
            for (taskID, field, value) in snapshot {
                guard let id = PresenceWire.entryID(field), let entry = PresenceWire.decodeEntry(value) else {
                    stale.append((taskID, field))
                    continue
                }
                if id.instance == self.instanceID {
                    if own[taskID]?[id] == nil { stale.append((taskID, field)) }
                } else {
                    remote.append((taskID, id, entry))
                }
            }
            for (taskID, entries) in own {
                for (id, entry) in entries {
                    try await backplane.apply(
                        taskID: taskID, field: id.field, value: PresenceWire.entryBytes(entry),
                        message: PresenceWire.message(taskID: taskID, id: id, entry: entry), ttlMilliseconds: ttl)
                }
            }
            // Deleted with a message, not silently: an instance whose own resync read them before
            // this one did still shows them, and only the message tells it they are gone.
            for (taskID, field) in stale {
                guard let id = PresenceWire.entryID(field) else {
                    try await backplane.delete([(taskID, field)])
                    continue
                }
                try await backplane.apply(
                    taskID: taskID, field: field, value: nil, message: PresenceWire.message(taskID: taskID, id: id, entry: nil),
                    ttlMilliseconds: ttl)
            }
            try await backplane.heartbeat(instance: self.instanceID, taskIDs: Array(own.keys), ttlMilliseconds: ttl * 2 / 3)
            let wasHealthy = self.state.withLock { s in
                defer { s.healthy = true }
                return s.healthy
            }
            if !wasHealthy { self.logger.info("Presence shared again") }
            self.workSink.yield(.replaceRemote(remote))
        } catch {
            self.workSink.yield(.replaceRemote(nil))
            self.markUnhealthy(error)
        }
    }

    private func replaceRemote(
        _ entries: [(taskID: Int64, id: PresenceEntry.ID, entry: PresenceEntry)], in s: inout State
    ) -> [(Int64, PresenceTransition)] {
        var changes: [(Int64, PresenceTransition)] = []
        var wanted: [Int64: [PresenceEntry.ID: PresenceEntry]] = [:]
        for (taskID, id, entry) in entries { wanted[taskID, default: [:]][id] = entry }
        // Others' entries this instance has that the snapshot lacks leave; the rest are set.
        for (taskID, ids) in s.roster.entryIDs(where: { $0.instance != self.instanceID }) {
            for id in ids where wanted[taskID]?[id] == nil {
                if let change = s.roster.remove(taskID: taskID, id: id) { changes.append((taskID, change)) }
            }
        }
        for (taskID, entries) in wanted {
            for (id, entry) in entries where s.roster.entry(taskID: taskID, id: id) != entry {
                for change in s.roster.set(taskID: taskID, id: id, entry: entry) { changes.append((taskID, change)) }
            }
        }
        return changes
    }

    private func markUnhealthy(_ error: any Error) {
        let was = self.state.withLock { s in
            defer { s.healthy = false }
            return s.healthy
        }
        if was { self.logger.warning("Presence not shared: the backplane failed", metadata: ["error": "\(error)"]) }
    }

    /// Every sixth of the TTL: renews this instance's heartbeat and its tasks' hashes, resyncs
    /// after a failure, and removes the entries of instances whose heartbeat is gone.
    private func heartbeatLoop() async {
        let interval = Duration.milliseconds(max(self.settings.ttlMilliseconds / 6, 50))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await self.heartbeat()
        }
    }

    /// One heartbeat: renews this instance's and its tasks' expiry, asks for a resync after a
    /// failure, and removes the entries of instances whose heartbeat is gone.
    func heartbeat() async {
        guard let backplane = self.backplane else { return }
        let ttl = self.settings.ttlMilliseconds
        let (taskIDs, others, healthy) = self.state.withLock { s in
            let mine = s.roster.entryIDs(where: { $0.instance == self.instanceID }).keys
            return (Array(mine), s.roster.instances.subtracting([self.instanceID]), s.healthy)
        }
        do {
            try await backplane.heartbeat(instance: self.instanceID, taskIDs: taskIDs, ttlMilliseconds: ttl * 2 / 3)
            if !healthy { self.writeSink.yield(.resync) }
            guard healthy, !others.isEmpty else { return }
            let alive = try await backplane.alive(Array(others))
            for instance in others.subtracting(alive) {
                let fields: [(taskID: Int64, field: String)] = self.state.withLock { s in
                    s.roster.entryIDs(where: { $0.instance == instance }).flatMap { taskID, ids in ids.map { (taskID, $0.field) } }
                }
                self.workSink.yield(.removeInstance(instance))
                self.writeSink.yield(.delete(fields))
            }
        } catch {
            self.markUnhealthy(error)
        }
    }
}
