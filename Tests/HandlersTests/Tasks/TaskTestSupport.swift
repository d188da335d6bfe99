import Handlers
import JSON
import JSONRPC
import Synchronization
import Testing
import SystemTime

extension TestDomain {
    /// A user inserted straight into the store (no dependency on `auth.*`) and a client signed
    /// in as them.
    func signedInUser(_ username: String) async throws -> (user: UserRow, client: TestClient) {
        let now = clock.now
        let user = try await domain.store.write { tx in
            try tx.insertUser(NewUser(
                username: username,
                email: "\(username.lowercased())@example.test",
                passwordHash: "$y$unused",
                createdAt: now
            ))
        }
        return (user, signIn(userID: user.id, username: user.username))
    }

    /// A client signed in as `userID` without touching the store.
    func signIn(userID: Int64, username: String) -> TestClient {
        let client = self.client()
        domain.sessions.signIn(
            client.session,
            as: Principal(
                userID: userID,
                username: username,
                sessionID: "test-\(userID)-\(client.session.connectionID)",
                // The expiry timer runs on the real clock; an hour outlives any test.
                expiresAt: SystemClock.now().adding(milliseconds: 3_600_000)
            )
        )
        return client
    }
}

extension TestClient {
    /// `tasks.create` with `params`, returning the Task.
    @discardableResult
    func createTask(_ params: JSONValue) async throws -> JSONValue {
        try await call("tasks.create", params)
    }

    /// `tasks.create` with just a title; returns the new id.
    func createTask(title: String) async throws -> Int64 {
        try await call("tasks.create", ["title": .string(title)]).id
    }

    func getTask(_ id: Int64) async throws -> JSONValue {
        try await call("tasks.get", ["id": .number(JSONNumber(id))])
    }

    /// `tasks.list` with `params`; every page item's title, in order, and the total.
    func listTitles(_ params: JSONValue = [:]) async throws -> (titles: [String], total: Int) {
        let page = try await call("tasks.list", params)
        let titles = (page["items"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue }
        return (titles, page["total"]?.numberValue?.int ?? -1)
    }
}

extension JSONValue {
    /// `id` of a Task (or -1).
    var id: Int64 { self["id"]?.numberValue?.int64 ?? -1 }

    var tagList: [String] { (self["tags"]?.arrayValue ?? []).compactMap(\.stringValue) }

    static func id(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}

/// The error `body` answered (nil when it succeeded), after checking its code and, when given,
/// the fields named in `data.errors`, in order.
@discardableResult
func expectError(
    _ code: RPCError.Code,
    fields: [String]? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RPCError? {
    do {
        try await body()
        Issue.record("expected error \(code.rawValue), got a result", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(error.code == code, "\(error.debugDescription)", sourceLocation: sourceLocation)
        if let fields {
            #expect(error.fieldErrors.map(\.field) == fields, "\(error.debugDescription)", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A store that refuses every call and counts them: params validation must finish before any
/// lookup, so a -32602 answered over this store proves nothing was read or written first.
final class RefusingStore: Store, UnavailableEventLog {
    let calls = Atomic<Int>(0)

    var backendName: String { "refusing" }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        calls.add(1, ordering: .relaxed)
        throw StoreError(.unavailable)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriter) throws -> T) async throws -> T {
        calls.add(1, ordering: .relaxed)
        throw StoreError(.unavailable)
    }

    func close() async {}

    var callCount: Int { calls.load(ordering: .relaxed) }

    func refused() { calls.add(1, ordering: .relaxed) }
}
