@testable import Handlers
import JSON
import JSONRPC
import Testing

/// Params validation of every `tasks.*` method, over a store that refuses every call: each case
/// must be answered -32602 naming the right fields without the store being touched (validation
/// before lookup, so -32602 wins over -32004).
@Suite struct TaskParamsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var method: String
        var params: JSONValue
        var fields: [String]
        var message: String? = nil

        var testDescription: String {
            let text = "\(method) \(params)"
            return text.count > 120 ? String(text.prefix(117)) + "..." : text
        }
    }

    static let long201 = String(repeating: "t", count: 201)
    static let cases: [Case] = [
        // tasks.create
        Case(method: "tasks.create", params: [:], fields: ["title"], message: "is required"),
        Case(method: "tasks.create", params: ["titel": "x"], fields: ["title", "titel"]),
        Case(method: "tasks.create", params: ["title": "x", "colour": "red"], fields: ["colour"], message: "is unknown"),
        Case(method: "tasks.create", params: ["title": nil], fields: ["title"], message: "must not be null"),
        Case(method: "tasks.create", params: ["title": 5], fields: ["title"], message: "must be a string"),
        Case(method: "tasks.create", params: ["title": "   \u{3000}"], fields: ["title"], message: "must not be empty"),
        Case(method: "tasks.create", params: ["title": .string(long201)], fields: ["title"], message: "must be at most 200 characters"),
        Case(method: "tasks.create", params: ["title": "a\u{7}b"], fields: ["title"], message: "must not contain control characters"),
        Case(method: "tasks.create", params: ["title": "two\nlines"], fields: ["title"]),
        Case(method: "tasks.create", params: ["title": "x", "description": .string(String(repeating: "d", count: 2001))], fields: ["description"]),
        Case(method: "tasks.create", params: ["title": "x", "description": "bell\u{7}"], fields: ["description"]),
        Case(method: "tasks.create", params: ["title": "x", "priority": "urgent"], fields: ["priority"], message: "must be one of: low, medium, high"),
        Case(method: "tasks.create", params: ["title": "x", "priority": 2], fields: ["priority"]),
        Case(method: "tasks.create", params: ["title": "x", "dueDate": "2026-02-30"], fields: ["dueDate"], message: "must be a date as YYYY-MM-DD"),
        Case(method: "tasks.create", params: ["title": "x", "dueDate": "2026-2-3"], fields: ["dueDate"]),
        Case(method: "tasks.create", params: ["title": "x", "dueDate": "2026-11-25T00:00:00Z"], fields: ["dueDate"]),
        Case(method: "tasks.create", params: ["title": "x", "dueDate": 20261125], fields: ["dueDate"], message: "must be a string"),
        Case(method: "tasks.create", params: ["title": "x", "completed": "yes"], fields: ["completed"], message: "must be a boolean"),
        Case(method: "tasks.create", params: ["title": "x", "tags": "work"], fields: ["tags"], message: "must be an array"),
        Case(method: "tasks.create", params: ["title": "x", "tags": ["ok", 3]], fields: ["tags.1"], message: "must be a string"),
        Case(method: "tasks.create", params: ["title": "x", "tags": ["ok", "ok", "ok", "  "]], fields: ["tags.3"], message: "must not be empty"),
        Case(method: "tasks.create", params: ["title": "x", "tags": ["ok", .string(String(repeating: "t", count: 51))]], fields: ["tags.1"]),
        Case(method: "tasks.create", params: ["title": "x", "tags": ["tab\there"]], fields: ["tags.0"]),
        Case(method: "tasks.create", params: ["title": "x", "tags": .strings((0..<21).map { "t\($0)" })], fields: ["tags"], message: "must hold at most 20 distinct tags"),
        Case(method: "tasks.create", params: ["title": "x", "tags": .strings((0..<100_000).map { "t\($0)" })], fields: ["tags"]),
        Case(method: "tasks.create", params: ["title": "x", "requestKey": ""], fields: ["requestKey"]),
        Case(method: "tasks.create", params: ["title": "x", "requestKey": .string(String(repeating: "k", count: 65))], fields: ["requestKey"]),
        Case(method: "tasks.create", params: ["title": "", "description": .string(String(repeating: "d", count: 2001)), "tags": [""]], fields: ["title", "description", "tags.0"]),
        Case(method: "tasks.create", params: ["x", "y"], fields: ["params"], message: "must be an object (by name)"),
        // tasks.get
        Case(method: "tasks.get", params: [:], fields: ["id"], message: "is required"),
        Case(method: "tasks.get", params: ["id": "1"], fields: ["id"], message: "must be an integer"),
        Case(method: "tasks.get", params: ["id": 1.5], fields: ["id"], message: "must be an integer"),
        Case(method: "tasks.get", params: ["id": 1e30], fields: ["id"], message: "is out of range"),
        Case(method: "tasks.get", params: ["id": 0], fields: ["id"], message: "must be at least 1"),
        Case(method: "tasks.get", params: ["id": -7], fields: ["id"]),
        Case(method: "tasks.get", params: ["id": 1, "requestKey": "k"], fields: ["requestKey"], message: "is unknown"),
        // tasks.update
        Case(method: "tasks.update", params: ["title": "x"], fields: ["id"]),
        Case(method: "tasks.update", params: ["id": 99_999, "title": ""], fields: ["title"]),
        Case(method: "tasks.update", params: ["id": 1, "title": nil], fields: ["title"], message: "must not be null"),
        Case(method: "tasks.update", params: ["id": 1, "priority": nil], fields: ["priority"], message: "must not be null"),
        Case(method: "tasks.update", params: ["id": 1, "completed": nil], fields: ["completed"], message: "must not be null"),
        Case(method: "tasks.update", params: ["id": 1, "tags": nil], fields: ["tags"], message: "must not be null"),
        Case(method: "tasks.update", params: ["id": 1, "title": nil, "priority": nil, "tags": [""]], fields: ["title", "priority", "tags.0"]),
        Case(method: "tasks.update", params: ["id": 1, "title": .string(long201)], fields: ["title"]),
        Case(method: "tasks.update", params: ["id": 1, "description": .string(String(repeating: "d", count: 2001))], fields: ["description"]),
        Case(method: "tasks.update", params: ["id": 1, "dueDate": "2026-13-01"], fields: ["dueDate"]),
        Case(method: "tasks.update", params: ["id": 1, "priority": "HIGH"], fields: ["priority"], message: "must be one of: low, medium, high"),
        Case(method: "tasks.update", params: ["id": 1, "tags": .strings((0..<21).map { "t\($0)" })], fields: ["tags"]),
        Case(method: "tasks.update", params: ["id": 1, "colour": "red"], fields: ["colour"], message: "is unknown"),
        Case(method: "tasks.update", params: ["id": 1, "ownerId": 2], fields: ["ownerId"], message: "is unknown"),
        Case(method: "tasks.update", params: ["id": 0, "title": ""], fields: ["id", "title"]),
        Case(method: "tasks.update", params: ["id": 1, "title": "x", "requestKey": ""], fields: ["requestKey"]),
        // tasks.delete
        Case(method: "tasks.delete", params: [:], fields: ["id"]),
        Case(method: "tasks.delete", params: ["id": true], fields: ["id"], message: "must be an integer"),
        Case(method: "tasks.delete", params: ["id": 1, "force": true], fields: ["force"]),
        Case(method: "tasks.delete", params: ["id": 1, "requestKey": .string(String(repeating: "k", count: 65))], fields: ["requestKey"]),
        // tasks.list
        Case(method: "tasks.list", params: ["limit": 0], fields: ["limit"], message: "must be between 1 and 100"),
        Case(method: "tasks.list", params: ["limit": 101], fields: ["limit"]),
        Case(method: "tasks.list", params: ["limit": -1], fields: ["limit"]),
        Case(method: "tasks.list", params: ["limit": "10"], fields: ["limit"], message: "must be an integer"),
        Case(method: "tasks.list", params: ["limit": 2.5], fields: ["limit"]),
        Case(method: "tasks.list", params: ["offset": -1], fields: ["offset"], message: "must be between 0 and 1000000"),
        Case(method: "tasks.list", params: ["offset": 1_000_001], fields: ["offset"]),
        Case(method: "tasks.list", params: ["offset": 1e30], fields: ["offset"], message: "is out of range"),
        Case(method: "tasks.list", params: ["limit": 0, "offset": -1], fields: ["limit", "offset"]),
        Case(method: "tasks.list", params: ["scope": "mine"], fields: ["scope"], message: "must be one of: owned, shared, all"),
        Case(method: "tasks.list", params: ["sortBy": "name"], fields: ["sortBy"], message: "must be one of: createdAt, updatedAt, dueDate, priority, title"),
        Case(method: "tasks.list", params: ["sortOrder": "up"], fields: ["sortOrder"], message: "must be one of: asc, desc"),
        Case(method: "tasks.list", params: ["priority": "urgent"], fields: ["priority"]),
        Case(method: "tasks.list", params: ["completed": "true"], fields: ["completed"], message: "must be a boolean"),
        Case(method: "tasks.list", params: ["overdue": 1], fields: ["overdue"]),
        Case(method: "tasks.list", params: ["search": ""], fields: ["search"], message: "must not be empty"),
        Case(method: "tasks.list", params: ["search": " \t "], fields: ["search"]),
        Case(method: "tasks.list", params: ["search": .string(long201)], fields: ["search"]),
        Case(method: "tasks.list", params: ["search": "nul\u{0}"], fields: ["search"]),
        Case(method: "tasks.list", params: ["tags": .strings((0..<21).map { "t\($0)" })], fields: ["tags"]),
        Case(method: "tasks.list", params: ["tags": ["ok", ""]], fields: ["tags.1"]),
        Case(method: "tasks.list", params: ["createdAfter": "yesterday"], fields: ["createdAfter"]),
        Case(method: "tasks.list", params: ["createdBefore": "2026-02-30T00:00:00Z"], fields: ["createdBefore"]),
        Case(method: "tasks.list", params: ["createdAfter": "2026-11-25"], fields: ["createdAfter"]),
        Case(method: "tasks.list", params: ["dueAfter": "2026-11-25T00:00:00Z"], fields: ["dueAfter"]),
        Case(method: "tasks.list", params: ["dueBefore": "2026-02-29"], fields: ["dueBefore"]),
        Case(method: "tasks.list", params: ["requestKey": "k"], fields: ["requestKey"], message: "is unknown"),
        Case(method: "tasks.list", params: ["page": 2], fields: ["page"], message: "is unknown"),
        // tasks.bulkUpdate
        Case(method: "tasks.bulkUpdate", params: [:], fields: ["ids"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1]], fields: ["changes"], message: "is required"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [], "changes": ["completed": true]], fields: ["ids"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": .array((1...101).map { .id(Int64($0)) }), "changes": ["completed": true]], fields: ["ids"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1, 2, 1], "changes": ["completed": true]], fields: ["ids"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1, 0], "changes": ["completed": true]], fields: ["ids.1"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1, "2"], "changes": ["completed": true]], fields: ["ids.1"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": 1, "changes": ["completed": true]], fields: ["ids"], message: "must be an array"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": [:]], fields: ["changes"], message: "must change at least one field"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["title": ""]], fields: ["changes.title"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["title": nil]], fields: ["changes.title"], message: "must not be null"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["tags": ["a", ""]]], fields: ["changes.tags.1"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["tags": .strings((0..<21).map { "t\($0)" })]], fields: ["changes.tags"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["priority": "x"]], fields: ["changes.priority"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["dueDate": "2026-02-30"]], fields: ["changes.dueDate"]),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["colour": "red"]], fields: ["changes.colour"], message: "is unknown"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": ["id": 2]], fields: ["changes.id"], message: "is unknown"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [1], "changes": "done"], fields: ["changes"], message: "must be an object"),
        Case(method: "tasks.bulkUpdate", params: ["ids": [], "changes": [:]], fields: ["ids", "changes"]),
        // tasks.addTags
        Case(method: "tasks.addTags", params: ["id": 1], fields: ["tags"]),
        Case(method: "tasks.addTags", params: ["id": 1, "tags": []], fields: ["tags"], message: "must hold at least one tag"),
        Case(method: "tasks.addTags", params: ["id": 1, "tags": ["a", "b", "c", " "]], fields: ["tags.3"]),
        Case(method: "tasks.addTags", params: ["id": 1, "tags": .strings((0..<21).map { "t\($0)" })], fields: ["tags"]),
        Case(method: "tasks.addTags", params: ["id": 1, "tags": nil], fields: ["tags"], message: "must not be null"),
        Case(method: "tasks.addTags", params: ["id": 0, "tags": ["a"]], fields: ["id"]),
        // tasks.removeTag
        Case(method: "tasks.removeTag", params: ["id": 1], fields: ["tag"]),
        Case(method: "tasks.removeTag", params: ["id": 1, "tag": "  "], fields: ["tag"], message: "must not be empty"),
        Case(method: "tasks.removeTag", params: ["id": 1, "tag": .string(String(repeating: "t", count: 51))], fields: ["tag"]),
        Case(method: "tasks.removeTag", params: ["id": 1, "tag": ["a"]], fields: ["tag"], message: "must be a string"),
        Case(method: "tasks.removeTag", params: ["id": 1, "tags": ["a"]], fields: ["tag", "tags"]),
        // tasks.stats
        Case(method: "tasks.stats", params: ["owner": 2], fields: ["owner"], message: "is unknown"),
    ]

    @Test(arguments: cases)
    func refusedBeforeAnyLookup(_ c: Case) async throws {
        let store = RefusingStore()
        let t = TestDomain(store: store)
        let client = t.signIn(userID: 1, username: "ana")
        let error = await expectError(.invalidParams, fields: c.fields) {
            try await client.call(c.method, c.params)
        }
        if let message = c.message {
            #expect(error?.fieldErrors.first?.message == message)
        }
        #expect(store.callCount == 0)
    }

    static let methods = [
        "tasks.create", "tasks.get", "tasks.update", "tasks.delete", "tasks.list",
        "tasks.bulkUpdate", "tasks.addTags", "tasks.removeTag", "tasks.stats",
    ]

    @Test(arguments: methods)
    func anonymousCallsAreUnauthenticated(_ method: String) async throws {
        let store = RefusingStore()
        let t = TestDomain(store: store)
        // Even with params that are wrong: sign-in is checked before params are read.
        await expectError(.unauthenticated) {
            try await t.client().call(method, ["bogus": 1])
        }
        #expect(store.callCount == 0)
    }

    @Test func everyMethodIsRegistered() {
        let t = TestDomain(store: RefusingStore())
        for method in Self.methods {
            #expect(t.registry.contains(method), "\(method)")
        }
    }
}

/// The normalization rules themselves, without any call.
@Suite struct TaskValidationTests {
    @Test func tagsAreTrimmedAndDeduplicatedIgnoringCaseKeepingFirstSpellingAndOrder() throws {
        let tags = try TaskValidation.tags([" Work ", "home", "WORK", "Straße", "STRASSE", "home\u{3000}", "ﬁx", "FIX"], field: "tags")
        #expect(tags == ["Work", "home", "Straße", "ﬁx"])
    }

    @Test func duplicatesDoNotCountTowardsTheLimit() throws {
        let raw = (0..<20).map { "t\($0)" } + (0..<20).map { "T\($0)" } + Array(repeating: "t0", count: 10_000)
        #expect(try TaskValidation.tags(raw, field: "tags").count == 20)
    }

    @Test func aBadTagIsNamedByItsIndexAsSent() {
        for (prefix, expected) in [("tags", "tags.3"), ("changes.tags", "changes.tags.3")] {
            do {
                _ = try TaskValidation.tags(["a", "a", "A", " "], field: prefix)
                Issue.record("accepted an empty tag")
            } catch {
                #expect(error.fieldErrors.map(\.field) == [expected])
            }
        }
    }

    @Test func mergeKeepsExistingFirstAndCountsTheWhole() throws {
        let merged = try TaskValidation.mergedTags(["work", "Urgent"], adding: ["URGENT", "new", " new ", "Other"], field: "tags")
        #expect(merged == ["work", "Urgent", "new", "Other"])
        let full = (0..<20).map { "t\($0)" }
        #expect(try TaskValidation.mergedTags(full, adding: ["T3"], field: "tags") == full)
        do {
            _ = try TaskValidation.mergedTags(full, adding: ["t21"], field: "tags")
            Issue.record("merged past the limit")
        } catch {
            #expect(error.fieldErrors.map(\.field) == ["tags"])
        }
    }

    @Test func lengthsCountUnicodeScalarsAfterTrimming() throws {
        #expect(try TaskValidation.title("  " + String(repeating: "é", count: 200) + "  ", field: "title").unicodeScalars.count == 200)
        #expect(try TaskValidation.title(String(repeating: "👍", count: 200), field: "title").count == 200)
        // "e" + combining acute: one character, two scalars.
        #expect(throws: RPCError.self) { try TaskValidation.title(String(repeating: "e\u{301}", count: 101), field: "title") }
        #expect(try TaskValidation.tag(String(repeating: "ß", count: 50), field: "tag").count == 50)
    }

    @Test func descriptionsKeepNewlinesAndTabsAndEmptyBecomesNil() throws {
        #expect(try TaskValidation.description("  line 1\n\tline 2  ", field: "description") == "line 1\n\tline 2")
        #expect(try TaskValidation.description(" \n\t ", field: "description") == nil)
        #expect(try TaskValidation.description(nil, field: "description") == nil)
        #expect(throws: RPCError.self) { try TaskValidation.description("carriage\rreturn", field: "description") }
    }

    @Test func changesApplyOnlyWhatTheyName() throws {
        let fields = TaskFields(title: "T", description: "D", completed: false, priority: .low, dueDate: DayDate("2026-01-01"), tags: ["a"])
        var changes = TaskChanges()
        #expect(changes.isEmpty)
        #expect(changes.applied(to: fields) == fields)
        changes.description = .null
        changes.dueDate = .null
        changes.completed = true
        let changed = changes.applied(to: fields)
        #expect(changed.description == nil && changed.dueDate == nil && changed.completed)
        #expect(changed.title == "T" && changed.priority == .low && changed.tags == ["a"])
    }

    @Test func anUpdateWithOnlyWhiteSpaceDescriptionClearsIt() throws {
        let params = try RPCParamsDecoder().decode(TaskParams.Update.self, from: ["id": 1, "description": "   "])
        let changes = try TaskValidation.changes(params.changes)
        #expect(changes.description == .null)
        #expect(params.id == 1)
    }

    @Test func listDefaults() throws {
        let today = DayDate("2026-11-25")!
        let query = try TaskValidation.query(try RPCParamsDecoder().decode(TaskParams.List.self, from: [:]), today: today)
        #expect(query.scope == .owned && query.sortBy == .createdAt && query.sortOrder == .desc)
        #expect(query.limit == 50 && query.offset == 0 && query.today == today)
        #expect(query.tagsFolded.isEmpty && query.searchFolded == nil)
        let searched = try TaskValidation.query(
            try RPCParamsDecoder().decode(TaskParams.List.self, from: ["search": "  Straße_% ", "tags": ["Work", "WORK", "ﬁ"]]),
            today: today
        )
        #expect(searched.searchFolded == "strasse_%")
        #expect(searched.tagsFolded == ["work", "fi"])
    }
}

/// A backend that is down answers -32050 with a retry hint, for every method that reaches it.
@Suite struct UnavailableStoreTests {
    @Test func aDownStoreAnswersUnavailableWithARetryHint() async throws {
        let error = StoreError(.unavailable).rpcError
        #expect(error.code == .unavailable)
        #expect(error.data?["retryAfterMs"]?.numberValue?.int == 1000)
    }
}
