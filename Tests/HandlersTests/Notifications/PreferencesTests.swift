@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// `notifications.getPreferences` / `updatePreferences` on both backends.
@Suite struct PreferencesTests {
    @Test(arguments: TestBackend.allCases)
    func defaultsThenPartialUpdates(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            let defaults: JSONValue = [
                "emailVerified": false, "emailEnabled": true, "taskShared": true, "taskCompleted": true,
                "commentAdded": true, "pushEnabled": true, "pushTaskShared": true, "pushTaskCompleted": true,
                "pushCommentAdded": true, "quietHours": .null,
            ]
            #expect(try await ana.call("notifications.getPreferences") == defaults)
            // Nothing to change is no change.
            #expect(try await ana.call("notifications.updatePreferences", [:]) == defaults)

            let updated = try await ana.call("notifications.updatePreferences", [
                "taskCompleted": false,
                "quietHours": ["start": "22:00", "end": "07:30", "timeZone": "Europe/Berlin"],
            ])
            func preferences(completed: Bool, comments: Bool, quiet: JSONValue) -> JSONValue {
                [
                    "emailVerified": false, "emailEnabled": true, "taskShared": true, "taskCompleted": .bool(completed),
                    "commentAdded": .bool(comments), "pushEnabled": true, "pushTaskShared": true, "pushTaskCompleted": true,
                    "pushCommentAdded": true, "quietHours": quiet,
                ]
            }
            var expected = preferences(completed: false, comments: true, quiet: ["start": "22:00", "end": "07:30", "timeZone": "Europe/Berlin"])
            #expect(updated == expected)
            #expect(try await ana.call("notifications.getPreferences") == expected)

            // Other fields keep their values; null removes quiet hours.
            let cleared = try await ana.call("notifications.updatePreferences", ["quietHours": .null, "commentAdded": false])
            expected = preferences(completed: false, comments: false, quiet: .null)
            #expect(cleared == expected)
            #expect(try await ana.call("notifications.getPreferences") == expected)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func badInputIsNamedAndChangesNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            try await ana.call("notifications.updatePreferences", ["taskShared": false])
            let before = try await ana.call("notifications.getPreferences")

            let cases: [(JSONValue, [String])] = [
                (["emailEnabled": .null], ["emailEnabled"]),
                (["taskShared": .null, "taskCompleted": .null, "commentAdded": .null], ["taskShared", "taskCompleted", "commentAdded"]),
                (["emailVerified": true], ["emailVerified"]),
                (["emailEnabled": "yes"], ["emailEnabled"]),
                (["emailEnabled": 1], ["emailEnabled"]),
                (["surprise": true], ["surprise"]),
                (["quietHours": ["start": "24:00", "end": "07:00", "timeZone": "Europe/Berlin"]], ["quietHours.start"]),
                (["quietHours": ["start": "7:00", "end": "07:0", "timeZone": "Europe/Berlin"]], ["quietHours.start", "quietHours.end"]),
                (["quietHours": ["start": "22:00", "end": "22:00", "timeZone": "Europe/Berlin"]], ["quietHours.end"]),
                (["quietHours": ["start": "22:00", "end": "07:00", "timeZone": "Mars/Olympus_Mons"]], ["quietHours.timeZone"]),
                (["quietHours": ["start": "22:00", "end": "07:00", "timeZone": "../../etc/passwd"]], ["quietHours.timeZone"]),
                (["quietHours": ["start": "22:00", "end": "07:00", "timeZone": ""]], ["quietHours.timeZone"]),
                (["quietHours": ["start": "22:00", "end": "07:00"]], ["quietHours.timeZone"]),
                (["quietHours": ["start": "22:00", "end": "07:00", "timeZone": "UTC", "extra": 1]], ["quietHours.extra"]),
                (["quietHours": "22:00-07:00"], ["quietHours"]),
                (["quietHours": ["start": "٢٢:٠٠", "end": "07:00", "timeZone": "UTC"]], ["quietHours.start"]),
            ]
            for (params, fields) in cases {
                let error = await Auth.error(ana, "notifications.updatePreferences", params)
                #expect(error?.code == .invalidParams, "\(params)")
                #expect(Set(Notify.fields(error)) == Set(fields), "\(params): \(Notify.fields(error))")
            }
            #expect(await Auth.error(ana, "notifications.updatePreferences", ["x"])?.code == .invalidParams)
            #expect(try await ana.call("notifications.getPreferences") == before)
            // Signed out: -32001 before anything else.
            #expect(await Auth.error(t.client(), "notifications.getPreferences")?.code == .unauthenticated)
            #expect(await Auth.error(t.client(), "notifications.updatePreferences", ["emailEnabled": .null])?.code == .unauthenticated)
        }
    }

    /// Concurrent updates of different fields: each lands whole, none is lost to a
    /// check-then-insert race on the first write.
    @Test(arguments: TestBackend.allCases)
    func concurrentFirstUpdatesNeverFail(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let ana = t.client()
            try await Auth.register(t, ana, "ana")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await ana.call("notifications.updatePreferences", ["emailEnabled": false]) }
                }
                try await group.waitForAll()
            }
            #expect(try await ana.call("notifications.getPreferences")["emailEnabled"] == false)
        }
    }
}
