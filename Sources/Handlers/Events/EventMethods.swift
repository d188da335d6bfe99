public import JSONRPC

/// `events.subscribe` and `events.unsubscribe` (protocol/README.md, "Live events"; docs/events.md,
/// "Replay").
///
/// Topics are all or nothing: every one is parsed, counted against the limit and (for
/// `task:<id>`) checked for view access before any is added; the first bad one is named in
/// `data.topic`. With `since`, the events the caller missed on the topics this call adds are
/// sent before the answer, in `seq` order, and live ones follow with none twice: the topics are
/// registered first (live events for them are held), the log is read up to the head, and the
/// held events above the last replayed one are released.
public enum EventMethods {
    struct SubscribeParams: Decodable, Sendable {
        var topics: [String]
        var since: Int64?
    }

    struct UnsubscribeParams: Decodable, Sendable {
        var topics: [String]
    }

    struct SubscribeResult: Encodable, Sendable {
        var topics: [String]
        var seq: Int64
        var resync: Bool
    }

    struct UnsubscribeResult: Encodable, Sendable {
        var topics: [String]
    }

    public static func register(in registry: inout MethodRegistry<ClientSession>, domain: Domain) {
        registry.registerSignedIn("events.subscribe", params: SubscribeParams.self) { params, call in
            try await subscribe(params, call, domain)
        }
        registry.registerSignedIn("events.unsubscribe", params: UnsubscribeParams.self) { params, call in
            try unsubscribe(params, call, domain)
        }
    }

    /// Parses `topics` (field `topics`), de-duplicating in order. An empty list is -32602; more
    /// than `limit` is -32013 before any is parsed (a hostile list costs nothing).
    static func parse(_ texts: [String], limit: Int) throws(RPCError) -> [Topic] {
        guard !texts.isEmpty else { throw .invalidParams(field: "topics", message: "must list at least one topic") }
        guard texts.count <= limit else { throw .tooLarge(limit: limit) }
        var topics: [Topic] = []
        var seen: Set<Topic> = []
        for (index, text) in texts.enumerated() {
            guard let topic = Topic(text) else {
                throw RPCError(
                    .invalidParams, message: "Invalid params",
                    data: [
                        "errors": [["field": .string("topics.\(index)"), "message": "must be \"tasks\" or \"task:<id>\""]],
                        "topic": .string(String(text.prefix(200))),
                    ]
                )
            }
            if seen.insert(topic).inserted { topics.append(topic) }
        }
        return topics
    }

    static func subscribe(_ params: SubscribeParams, _ call: SignedInCall, _ domain: Domain) async throws -> SubscribeResult {
        let settings = domain.configuration.events
        let topics = try parse(params.topics, limit: settings.maxTopics)
        if let since = params.since, since < 0 {
            throw RPCError.invalidParams(field: "since", message: "must be 0 or more")
        }
        let userID = call.userID
        let client = call.client
        // View access for every task topic, in one snapshot; the first refused one is named.
        let taskIDs = topics.compactMap(\.taskID)
        if !taskIDs.isEmpty {
            let refused: Int64? = try await domain.store.read { tx in
                for id in taskIDs where try tx.task(id: id, viewer: userID) == nil { return id }
                return nil
            }
            if let refused {
                throw RPCError(.notFound, message: "Task not found", data: ["topic": .string(Topic.task(refused).description)])
            }
        }
        if let since = params.since, since > (try await domain.store.headSeq()) {
            throw RPCError.invalidParams(field: "since", message: "is beyond the latest event")
        }

        guard let registered = client.events.add(topics, userID: userID, limit: settings.maxTopics) else {
            throw RPCError.tooLarge(limit: settings.maxTopics)
        }
        let (all, added, generation) = registered
        domain.hub.track(client, userID: userID, generation: generation)
        guard let since = params.since else {
            let head = try await domain.store.headSeq()
            return SubscribeResult(topics: all.map(\.description), seq: head, resync: false)
        }
        guard client.events.beginReplay(generation: generation) else {
            // Signed out meanwhile: the subscriptions are gone already.
            throw RPCError.signInRequired
        }
        var replayed: [(seq: Int64, bytes: [UInt8])] = []
        defer { client.events.finishReplay(replayed, generation: generation) }
        do {
            let head = try await domain.store.headSeq()
            let replay = try await self.replay(
                added: added, held: Set(all), since: since, head: head, userID: userID, settings: settings, domain: domain)
            guard let notifications = replay else {
                return SubscribeResult(topics: all.map(\.description), seq: head, resync: true)
            }
            replayed = notifications
            return SubscribeResult(topics: all.map(\.description), seq: head, resync: false)
        } catch {
            _ = client.events.remove(added)
            domain.hub.untrackIfIdle(client)
            throw error
        }
    }

    /// The notifications for the events after `since` on the `added` topics, serialized in
    /// `seq` order (each under its `task:<id>` topic when the session holds it, else `tasks`), or
    /// nil when the client must resync: the first missed event is older than the replay window,
    /// or there are more than the replay's event or byte limit.
    ///
    /// The log is read a page at a time and serialized as it goes, so one call holds at most
    /// the byte limit and a page of events, however large the events or long the gap.
    static func replay(
        added: [Topic], held: Set<Topic>, since: Int64, head: Int64, userID: Int64,
        settings: DomainConfiguration.Events, domain: Domain
    ) async throws -> [(seq: Int64, bytes: [UInt8])]? {
        guard since < head, !added.isEmpty else { return [] }
        if let first = try await domain.store.eventTime(seq: since + 1),
            first.milliseconds < domain.clock().milliseconds - settings.replayWindowMilliseconds
        {
            return nil
        }
        let taskIDs: [Int64]? = added.contains(.tasks) ? nil : added.compactMap(\.taskID)
        var notifications: [(seq: Int64, bytes: [UInt8])] = []
        var bytes = 0
        var after = since
        while true {
            // One past the event limit in all, to tell "exactly the limit" from "more".
            let limit = min(settings.replayPageEvents, settings.replayMaxEvents + 1 - notifications.count)
            let page = try await domain.store.replay(userID: userID, taskIDs: taskIDs, after: after, through: head, limit: limit)
            for event in page {
                let topic: Topic = event.taskID.map { held.contains(.task($0)) ? .task($0) : .tasks } ?? .tasks
                let message = EventSerializer.notification(event, topic: topic, permission: event.audience.first?.permission)
                bytes += message.count
                guard bytes <= settings.replayMaxBytes, notifications.count < settings.replayMaxEvents else { return nil }
                notifications.append((event.seq, message))
            }
            guard page.count == limit, let last = page.last else { return notifications }
            after = last.seq
        }
    }

    static func unsubscribe(_ params: UnsubscribeParams, _ call: SignedInCall, _ domain: Domain) throws -> UnsubscribeResult {
        let topics = try parse(params.topics, limit: domain.configuration.events.maxTopics)
        let remaining = call.client.events.remove(topics)
        domain.hub.untrackIfIdle(call.client)
        return UnsubscribeResult(topics: remaining.map(\.description))
    }
}
