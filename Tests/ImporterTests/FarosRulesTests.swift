import Handlers
import JSON
import Testing
@testable import Importer

/// What each FAROS value becomes, by Faros's rules: taken, normalized with a note, or refused
/// with a reason a person can act on.
@Suite struct FarosRulesTests {
    static let hash = "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq"

    func fields(
        title: String? = "Fix login bug", description: String? = nil, priority: String? = "high", due: String? = nil,
        tags: String? = "[]", notes: String? = nil
    ) throws(FarosRules.Refused) -> (fields: TaskFields, note: String?) {
        try FarosRules.taskFields(title: title, description: description, completed: true, priority: priority, dueDate: due, tags: tags, notes: notes)
    }

    func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as FarosRules.Refused {
            return error.reason
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func aFarosTaskComesOverAsItIs() throws {
        let (task, note) = try fields(description: "Users with ü in names — <script>alert(1)</script>", due: "2026-12-05", tags: #"["work","bugs"]"#)
        #expect(task == TaskFields(title: "Fix login bug", description: "Users with ü in names — <script>alert(1)</script>", completed: true,
                                   priority: .high, dueDate: DayDate("2026-12-05"), tags: ["work", "bugs"]))
        #expect(note == nil)
    }

    @Test func obviousReadingsAreNormalizedWithANote() throws {
        let (task, note) = try fields(title: "  Groceries ", tags: #"["Work","work"," home "]"#, notes: "kept somewhere")
        #expect(task.title == "Groceries")
        #expect(task.tags == ["Work", "home"])
        #expect(task.description == "Notes: kept somewhere")
        #expect(note == "white space around the title trimmed; FAROS notes kept at the end of the description; tags repeated in another case merged")
    }

    @Test func whatHasNoObviousReadingIsRefused() {
        #expect(refusal { _ = try fields(title: String(repeating: "x", count: 201)) } == "title must be at most 200 characters (it has 201)")
        #expect(refusal { _ = try fields(title: "   ") }?.hasPrefix("title must not be empty") == true)
        #expect(refusal { _ = try fields(priority: "urgent") } == "priority 'urgent' is none of low, medium, high")
        #expect(refusal { _ = try fields(tags: "[" + (0..<21).map { "\"t\($0)\"" }.joined(separator: ",") + "]") }?.hasPrefix("tags ") == true)
        #expect(refusal { _ = try fields(tags: #"["\#(String(repeating: "t", count: 51))"]"#) }?.hasPrefix("tags ") == true)
        #expect(refusal { _ = try fields(description: String(repeating: "d", count: 2001)) }?.hasPrefix("description ") == true)
        #expect(refusal { _ = try FarosRules.comment("   ") }?.hasPrefix("content ") == true)
        #expect(refusal { _ = try FarosRules.sharePermission("admin") } == "permission 'admin' is neither view nor edit")
    }

    @Test func accountsKeepTheirNameAndTheirBcryptHash() throws {
        let account = try FarosRules.account(username: "alice", email: "Alice@Example.org", hash: Self.hash)
        #expect(account.username == "alice" && account.email == "alice@example.org" && account.hash == Self.hash)
        #expect(refusal { _ = try FarosRules.account(username: "a b", email: "x@example.org", hash: Self.hash) }?.hasPrefix("username 'a b' ") == true)
        #expect(refusal { _ = try FarosRules.account(username: "alice", email: "not an address", hash: Self.hash) }?.hasPrefix("address 'not an address' ") == true)
        #expect(refusal { _ = try FarosRules.account(username: "alice", email: "a@example.org", hash: "plain") } == "password hash is not a bcrypt hash Faros can verify")
    }

    /// A stored file name is read from inside the upload directory only.
    @Test(arguments: ["../etc/passwd", "a/b.png", "..", ".", "", "a\\b", "x\u{0}.png"])
    func storedNamesThatLeaveTheDirectoryAreRefused(_ name: String) {
        #expect(refusal { _ = try FarosRules.storedFilename(name) } != nil)
    }

    @Test func avatarURLsNameTheirFile() {
        #expect(FarosRules.avatarPath(userID: 2, url: "/users/2/avatar.png") == "avatars/user_2_avatar.png")
        #expect(FarosRules.avatarPath(userID: 2, url: "/users/2/avatar.../../x") == nil)
        #expect(FarosRules.avatarPath(userID: 2, url: "https://elsewhere/pic.png") == nil)
    }

    @Test func historyTakesFarosNames() throws {
        #expect(FarosRules.action(resourceType: "task", action: "unshared") == .shareRevoked)
        #expect(FarosRules.action(resourceType: "file", action: "uploaded") == .fileUploaded)
        #expect(FarosRules.action(resourceType: "task", action: "archived") == nil)
        let details = try JSONParser().parse(#"""
            {"changed_fields": ["priority", "due_date"], "old_values": {"priority": "medium", "due_date": "2027-02-04", "title": "same"},
             "new_values": {"priority": "high", "due_date": "2027-01-20", "title": "same"}}
            """#).objectValue ?? [:]
        let changes = FarosRules.taskChanges(details)
        #expect(String(decoding: JSONWriter.serialize(.object(changes)), as: UTF8.self)
            == #"{"priority":{"old":"medium","new":"high"},"dueDate":{"old":"2027-02-04","new":"2027-01-20"}}"#)
        let snapshot = FarosRules.taskSnapshot(["title": "Temp", "due_date": .null, "unknown": 1], taskID: 16)
        #expect(String(decoding: JSONWriter.serialize(.object(snapshot)), as: UTF8.self) == #"{"id":16,"title":"Temp","dueDate":null}"#)
    }
}
