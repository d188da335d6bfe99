@testable import Handlers
import ByteCoding
import JSON
import JSONRPC
import Storage
import StoreTestSupport
import Testing

/// Web Push in the domain, on both backends: devices, what is pushed to whom, preferences and
/// quiet hours, and the sender's answers to the push service (a recording transport; the real
/// one is tested against a loopback push service in WebPushTests and scripts/e2e/test_push.py).
@Suite struct PushTests {
    static let p256dh = Base64URL.encode([4] + [UInt8](repeating: 7, count: 64))
    static let auth = Base64URL.encode([UInt8](repeating: 9, count: 16))

    static func subscription(_ endpoint: String, label: String? = nil, refresh: Bool = false) -> JSONValue {
        var object: JSONObject = ["endpoint": .string(endpoint), "keys": ["p256dh": .string(p256dh), "auth": .string(auth)]]
        if let label { object.append(key: "label", value: .string(label)) }
        if refresh { object.append(key: "refresh", value: true) }
        return .object(object)
    }

    /// A registered, signed-in user with one device at `https://push.test/<username>`.
    static func user(_ t: TestDomain, _ name: String, device: Bool = true) async throws -> (client: TestClient, userID: Int64) {
        let client = t.client()
        let registered = try await Auth.register(t, client, name)
        if device { try await client.call("push.subscribe", subscription("https://push.test/\(name)", label: "\(name)'s laptop")) }
        return (client, registered.userID)
    }

    /// Runs the push sender until nothing is due or in flight.
    static func settle(_ t: TestDomain, _ store: any Store) async throws {
        let now = t.clock.now.milliseconds
        try await Auth.eventually("push outbox settled") {
            try await t.pushSender.round()
            let busy = try await sqlStore(store).query(
                "SELECT COUNT(*) AS n FROM push_outbox WHERE state = 'sending' OR (state = 'queued' AND next_attempt_at <= $1)",
                [.int64(now)]
            )
            return try busy[0].int64("n") == 0
        }
    }

    static func states(_ store: any Store, userID: Int64) async throws -> [PushState] {
        try await store.read { try $0.outboxPushes(userID: userID) }.map(\.state)
    }

    // MARK: Devices

    @Test(arguments: TestBackend.allCases)
    func devicesAreRegisteredListedUpdatedAndRemoved(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let key = try await t.client().call("push.getPublicKey")
            #expect(key["publicKey"]?.stringValue == "BTestApplicationServerKey")
            let (ana, _) = try await Self.user(t, "ana", device: false)
            let device = try await ana.call("push.subscribe", Self.subscription("https://fcm.push.test/send/abc", label: "  Chromium on Linux "))
            #expect(device["label"]?.stringValue == "Chromium on Linux")
            #expect(device["service"]?.stringValue == "https://fcm.push.test")
            #expect(device["current"] == true)
            #expect(device["lastUsedAt"] == .null)
            #expect(device["endpoint"] == nil)
            // The same endpoint again: the same device, updated.
            let again = try await ana.call("push.subscribe", Self.subscription("https://fcm.push.test/send/abc"))
            #expect(again["id"] == device["id"])
            #expect(again["label"]?.stringValue == "Browser")
            // Another session of Ana's sees it, not as its own.
            let other = t.client()
            _ = try await Auth.login(other, "ana")
            let listed = try await other.call("push.listDevices")
            #expect(listed["devices"]?.arrayValue?.count == 1)
            #expect(listed["devices"]?.arrayValue?.first?["current"] == false)
            // Ben cannot remove Ana's device.
            let (ben, _) = try await Self.user(t, "ben", device: false)
            let id = try #require(device["id"])
            #expect(await Auth.error(ben, "push.removeDevice", ["deviceId": id])?.code == .notFound)
            // A silent refresh updates the device it names...
            let refresh = Self.subscription("https://fcm.push.test/send/abc", label: "Chromium", refresh: true)
            #expect(try await ana.call("push.subscribe", refresh)["id"] == id)
            // ...Ben cannot refresh his way to Ana's device...
            #expect(await Auth.error(ben, "push.subscribe", refresh)?.code == .notFound)
            try await other.call("push.removeDevice", ["deviceId": id])
            #expect(try await ana.call("push.listDevices")["devices"]?.arrayValue?.isEmpty == true)
            #expect(await Auth.error(ana, "push.removeDevice", ["deviceId": id])?.code == .notFound)
            // ...and a device removed from another session stays removed.
            #expect(await Auth.error(ana, "push.subscribe", refresh)?.code == .notFound)
            #expect(try await ana.call("push.listDevices")["devices"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theEleventhDeviceReplacesTheOldestAndABrowserMovesToWhoeverSignsInOnIt(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, anaID) = try await Self.user(t, "ana", device: false)
            for i in 1...11 {
                try await ana.call("push.subscribe", Self.subscription("https://push.test/d\(i)", label: "device \(i)"))
            }
            let labels = try await ana.call("push.listDevices")["devices"]?.arrayValue?.compactMap { $0["label"]?.stringValue }
            #expect(labels?.count == 10)
            #expect(labels?.first == "device 11")
            #expect(labels?.contains("device 1") == false)
            // Ben signs in on the browser of device 5: it is his now.
            let (ben, benID) = try await Self.user(t, "ben", device: false)
            try await ben.call("push.subscribe", Self.subscription("https://push.test/d5"))
            #expect(try await store.read { try $0.pushSubscriptions(userID: anaID) }.count == 9)
            #expect(try await store.read { try $0.pushSubscriptions(userID: benID) }.map(\.endpoint) == ["https://push.test/d5"])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func hostileSubscriptionsAreRefusedByField(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, anaID) = try await Self.user(t, "ana", device: false)
            let cases: [(JSONValue, [String])] = [
                (Self.subscription("http://push.test/x"), ["endpoint"]),
                (Self.subscription("http://127.0.0.1:9/x"), ["endpoint"]),
                (Self.subscription("file:///etc/passwd"), ["endpoint"]),
                (Self.subscription("https://user:pw@push.test/x"), ["endpoint"]),
                (Self.subscription("https:///nohost"), ["endpoint"]),
                (Self.subscription("https://push.test:99999/x"), ["endpoint"]),
                (Self.subscription("https://push.test/a b"), ["endpoint"]),
                (Self.subscription("https://push.test/" + String(repeating: "a", count: 2100)), ["endpoint"]),
                (Self.subscription(""), ["endpoint"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": "AAAA", "auth": .string(Self.auth)]], ["keys.p256dh"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": .string(Base64URL.encode([UInt8](repeating: 0, count: 65))), "auth": .string(Self.auth)]], ["keys.p256dh"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": "!!not base64!!", "auth": "short"]], ["keys.p256dh", "keys.auth"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": .string(Self.p256dh), "auth": .string(Self.auth)], "expirationTime": 5], ["expirationTime"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": .string(Self.p256dh), "auth": .string(Self.auth)], "label": .string(String(repeating: "x", count: 101))], ["label"]),
                (["endpoint": "https://push.test/x", "keys": ["p256dh": .string(Self.p256dh), "auth": .string(Self.auth)], "label": "a\u{7}b"], ["label"]),
            ]
            for (params, fields) in cases {
                let error = await Auth.error(ana, "push.subscribe", params)
                #expect(error?.code == .invalidParams, "\(params)")
                #expect(Notify.fields(error) == fields, "\(params)")
            }
            #expect(await Auth.error(ana, "push.subscribe", ["endpoint": "https://push.test/x"])?.code == .invalidParams)
            #expect(await Auth.error(ana, "push.subscribe", ["endpoint": 5, "keys": "none"])?.code == .invalidParams)
            #expect(await Auth.error(ana, "push.removeDevice", ["deviceId": 0])?.code == .invalidParams)
            #expect(await Auth.error(t.client(), "push.subscribe", Self.subscription("https://push.test/x"))?.code == .unauthenticated)
            #expect(try await store.read { try $0.pushSubscriptions(userID: anaID) }.isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func httpEndpointsOnlyOnLoopbackAndOnlyWhenAllowed(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store) { $0.push.allowHTTPOnLoopback = true }
            let (ana, _) = try await Self.user(t, "ana", device: false)
            try await ana.call("push.subscribe", Self.subscription("http://127.0.0.1:8123/push/1"))
            try await ana.call("push.subscribe", Self.subscription("http://[::1]:8123/push/2"))
            try await ana.call("push.subscribe", Self.subscription("http://localhost/push/3"))
            #expect(await Auth.error(ana, "push.subscribe", Self.subscription("http://10.0.0.1/push/4"))?.code == .invalidParams)
            #expect(await Auth.error(ana, "push.subscribe", Self.subscription("http://127.0.0.1.evil.test/push/5"))?.code == .invalidParams)
        }
    }

    // MARK: What is pushed

    @Test(arguments: TestBackend.allCases)
    func shareCommentAndCompletionPushToTheOthersDevicesNeverTheActor(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Self.user(t, "ana")
            let (ben, _) = try await Self.user(t, "ben")
            let (_, _) = try await Self.user(t, "cyd")
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben", permission: "edit")
            try await Self.settle(t, store)
            let shared = try #require(t.pusher.payloads(to: "https://push.test/ben").last)
            #expect(shared["kind"] == "taskShared")
            #expect(shared["taskId"]?.numberValue?.int64 == taskID)
            #expect(shared["taskTitle"] == "Roadmap")
            #expect(shared["actor"] == "ana")
            #expect(shared["title"] == "ana shared a task with you")
            #expect(shared["body"] == "Roadmap · You can edit it.")
            #expect(shared["url"]?.stringValue == "http://faros.test/tasks/\(taskID)")
            #expect(shared["tag"]?.stringValue == "faros-task-\(taskID)")
            let push = try #require(t.pusher.pushes.last { $0.endpoint == "https://push.test/ben" })
            #expect(push.topic == "task-\(taskID)")
            #expect(push.ttlSeconds > 86_000 && push.ttlSeconds <= 86_400)
            #expect(push.p256dh.count == 65 && push.auth.count == 16)

            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "Looks good"])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(taskID)), "completed": true])
            try await Self.settle(t, store)
            // The sender sends a batch's pushes concurrently (32 at a time), and push services
            // promise no order either: which of the two arrived first is not part of the contract.
            let ana_ = t.pusher.payloads(to: "https://push.test/ana")
                .sorted { ($0["kind"]?.stringValue ?? "") < ($1["kind"]?.stringValue ?? "") }
            #expect(ana_.map { $0["kind"]?.stringValue } == ["commentAdded", "taskCompleted"])
            #expect(ana_[0]["title"]?.stringValue == "ben commented on “Roadmap”")
            #expect(ana_[0]["body"] == "Looks good")
            #expect(ana_[1]["title"] == "ben completed a task")
            // Ben acted: nothing more for him; Cyd cannot see the task: nothing at all.
            #expect(t.pusher.payloads(to: "https://push.test/ben").count == 1)
            #expect(t.pusher.payloads(to: "https://push.test/cyd").isEmpty)
            // A comment by Ana goes to Ben.
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": .string(String(repeating: "long ", count: 300))])
            try await Self.settle(t, store)
            let long = try #require(t.pusher.payloads(to: "https://push.test/ben").last)
            #expect(long["kind"] == "commentAdded")
            #expect((long["body"]?.stringValue?.count ?? 0) <= PushPayload.maxBodyCharacters)
            #expect(try #require(t.pusher.pushes.last).payload.count < 1500)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pushPreferencesAreTheirOwnChannel(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Self.user(t, "ana")
            let (ben, _) = try await Self.user(t, "ben")
            let prefs = try await ben.call("notifications.getPreferences")
            #expect(prefs["pushEnabled"] == true && prefs["pushTaskShared"] == true && prefs["pushCommentAdded"] == true)
            let updated = try await ben.call("notifications.updatePreferences", ["pushTaskShared": false, "commentAdded": false])
            #expect(updated["pushTaskShared"] == false && updated["taskShared"] == true && updated["commentAdded"] == false)
            #expect(updated["pushCommentAdded"] == true)
            #expect(Notify.fields(await Auth.error(ben, "notifications.updatePreferences", ["pushEnabled": .null])) == ["pushEnabled"])
            let first = try await Notify.task(ana, "One")
            try await Notify.share(ana, first, with: "ben")
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(first)), "content": "hi"])
            try await Self.settle(t, store)
            // Shares are off for push (mail is not), comments are on for push (off for mail).
            #expect(t.pusher.payloads(to: "https://push.test/ben").map { $0["kind"]?.stringValue } == ["commentAdded"])
            try await ben.call("notifications.updatePreferences", ["pushEnabled": false])
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(first)), "content": "again"])
            try await Self.settle(t, store)
            #expect(t.pusher.payloads(to: "https://push.test/ben").count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func quietHoursHoldPushesAndSendOneSummaryPerDevice(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, anaID) = try await Self.user(t, "ana")
            let phone = t.client()
            _ = try await Auth.login(phone, "ana")
            try await phone.call("push.subscribe", Self.subscription("https://push.test/ana-phone"))
            let (ben, _) = try await Self.user(t, "ben")
            try await ana.call("notifications.updatePreferences", ["quietHours": MailOutboxTests.quiet])
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "first"])
            try await ben.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "second"])
            try await ben.call("tasks.update", ["id": .number(JSONNumber(taskID)), "completed": true])
            try await Self.settle(t, store)
            #expect(t.pusher.payloads(to: "https://push.test/ana").isEmpty)
            #expect(try await Self.states(store, userID: anaID) == Array(repeating: .held, count: 6))
            t.clock.advance(milliseconds: 60 * 60_000)
            try await Self.settle(t, store)
            for endpoint in ["https://push.test/ana", "https://push.test/ana-phone"] {
                let got = t.pusher.payloads(to: endpoint)
                #expect(got.count == 1)
                #expect(got.first?["kind"] == "summary")
                #expect(got.first?["count"]?.numberValue?.int64 == 3)
                #expect(got.first?["title"] == "3 updates while notifications were paused")
                #expect(got.first?["url"]?.stringValue == "http://faros.test/tasks/\(taskID)")
                #expect(got.first?["body"]?.stringValue?.contains("• ben commented on “Roadmap”") == true)
            }
            let states = try await Self.states(store, userID: anaID)
            #expect(states.filter { $0 == .summarized }.count == 6)
            #expect(states.filter { $0 == .sent }.count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pushBombingIsBoundedPerDeviceAndSharingAgainIsNotNews(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = TestDomain(store: store) { $0.push.perSubscription = 5 }
            let (ana, _) = try await Self.user(t, "ana")
            let (_, benID) = try await Self.user(t, "ben")
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await Self.settle(t, store)
            try await ana.call("shares.revoke", ["taskId": .number(JSONNumber(taskID)), "username": "ben"])
            try await Notify.share(ana, taskID, with: "ben")
            for i in 0..<8 {
                try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": .string("c\(i)")])
            }
            try await Self.settle(t, store)
            let kinds = t.pusher.payloads(to: "https://push.test/ben").compactMap { $0["kind"]?.stringValue }
            #expect(kinds.filter { $0 == "taskShared" }.count == 1)
            #expect(kinds.count == 5)
            #expect(try await store.read { try $0.outboxPushes(userID: benID) }.count == 5)
            // Without limits (FAROS_RATE_LIMITS=off) every change pushes.
            let free = TestDomain(store: store, rateLimits: false) { $0.push.perSubscription = 5 }
            let ana2 = free.client()
            _ = try await Auth.login(ana2, "ana")
            for i in 0..<3 {
                try await ana2.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": .string("d\(i)")])
            }
            try await Self.settle(free, store)
            #expect(free.pusher.payloads(to: "https://push.test/ben").count == 3)
        }
    }

    // MARK: The push service's answers

    @Test(arguments: TestBackend.allCases)
    func goneRemovesTheDeviceAndRefusalsAreDroppedForGood(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Self.user(t, "ana")
            let (_, benID) = try await Self.user(t, "ben")
            let taskID = try await Notify.task(ana, "Roadmap")
            t.pusher.answerNext([.rejected(status: 413, reason: "too large")])
            try await Notify.share(ana, taskID, with: "ben")
            try await Self.settle(t, store)
            let rows = try await store.read { try $0.outboxPushes(userID: benID) }
            #expect(rows.map(\.state) == [.failed])
            #expect(rows.first?.lastError?.contains("413") == true)
            t.pusher.answerNext([.gone(status: 410)])
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "hello"])
            try await Self.settle(t, store)
            #expect(try await store.read { try $0.pushSubscriptions(userID: benID) }.isEmpty)
            #expect(try await store.read { try $0.outboxPushes(userID: benID) }.isEmpty)
            #expect(t.pusher.payloads(to: "https://push.test/ben").isEmpty)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func retriesHonourRetryAfterThenDeliverOnceAndGiveUpAtTheTTL(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Self.user(t, "ana")
            let (_, benID) = try await Self.user(t, "ben")
            let taskID = try await Notify.task(ana, "Roadmap")
            t.pusher.answerNext([.retry(status: 429, retryAfterMilliseconds: 30_000, reason: "slow down")])
            try await Notify.share(ana, taskID, with: "ben")
            try await Self.settle(t, store)
            var row = try #require(try await store.read { try $0.outboxPushes(userID: benID) }.first)
            #expect(row.state == .queued)
            #expect(row.lastError?.contains("429") == true)
            // Not before Retry-After, although the backoff alone would be 1 s.
            t.clock.advance(milliseconds: 20_000)
            try await Self.settle(t, store)
            #expect(t.pusher.payloads(to: "https://push.test/ben").isEmpty)
            // Retry-After plus at most a second of jitter.
            t.clock.advance(milliseconds: 11_001)
            t.pusher.answerNext([.retry(status: 503, retryAfterMilliseconds: nil, reason: "down"), .retry(status: nil, retryAfterMilliseconds: nil, reason: "connection refused")])
            try await Self.settle(t, store)
            for _ in 0..<3 {
                t.clock.advance(milliseconds: 10_000)
                try await Self.settle(t, store)
            }
            #expect(t.pusher.payloads(to: "https://push.test/ben").count == 1)
            row = try #require(try await store.read { try $0.outboxPushes(userID: benID) }.first)
            #expect(row.state == .sent)
            #expect(row.attempts == 4)
            #expect(try await store.read { try $0.pushSubscriptions(userID: benID) }.first?.lastUsedAt != nil)

            // A push service down for longer than the TTL: given up, not sent late.
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "hello"])
            t.pusher.answerNext(Array(repeating: .retry(status: 500, retryAfterMilliseconds: nil, reason: "down"), count: 40))
            for _ in 0..<10 {
                try await Self.settle(t, store)
                t.clock.advance(milliseconds: 3 * 3_600_000)
            }
            let last = try #require(try await store.read { try $0.outboxPushes(userID: benID) }.last)
            #expect(last.state == .failed)
            #expect(last.lastError?.contains("expired") == true)
        }
    }

    // MARK: Checked at send time

    @Test(arguments: TestBackend.allCases)
    func noPushForATaskNoLongerVisibleOrShownLiveOnThatDevice(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let (ana, _) = try await Self.user(t, "ana")
            let (ben, benID) = try await Self.user(t, "ben")
            let benPhone = t.client()
            _ = try await Auth.login(benPhone, "ben")
            try await benPhone.call("push.subscribe", Self.subscription("https://push.test/ben-phone"))
            let taskID = try await Notify.task(ana, "Roadmap")
            try await Notify.share(ana, taskID, with: "ben")
            try await Self.settle(t, store)
            #expect(t.pusher.payloads(to: "https://push.test/ben").count == 1)
            // Ben has the task open on his laptop: the laptop is not pushed, the phone is.
            try await ben.call("presence.enter", ["taskId": .number(JSONNumber(taskID))])
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "see this?"])
            try await Self.settle(t, store)
            #expect(t.pusher.payloads(to: "https://push.test/ben").count == 1)
            #expect(t.pusher.payloads(to: "https://push.test/ben-phone").map { $0["kind"]?.stringValue }.last == "commentAdded")
            let dropped = try await store.read { try $0.outboxPushes(userID: benID) }.filter { $0.state == .dropped }
            #expect(dropped.count == 1 && dropped[0].lastError?.contains("live") == true)
            try await ben.call("presence.leave", ["taskId": .number(JSONNumber(taskID))])

            // A comment whose push could not go at once, then the share is revoked: never sent.
            t.pusher.answerNext([.retry(status: 503, retryAfterMilliseconds: nil, reason: "down"), .retry(status: 503, retryAfterMilliseconds: nil, reason: "down")])
            try await ana.call("comments.create", ["taskId": .number(JSONNumber(taskID)), "content": "secret plans"])
            try await Self.settle(t, store)
            try await ana.call("shares.revoke", ["taskId": .number(JSONNumber(taskID)), "username": "ben"])
            let before = t.pusher.pushes.count
            t.clock.advance(milliseconds: 60_000)
            try await Self.settle(t, store)
            #expect(t.pusher.pushes.count == before)
            let last = try await store.read { try $0.outboxPushes(userID: benID) }.suffix(2)
            #expect(last.allSatisfy { $0.state == .dropped && $0.lastError?.contains("no longer see") == true })
        }
    }
}
