import Foundation
@testable import Handlers
import JSON
import JSONRPC
import Testing

/// `TaskRecord` hands `JSONValueEncoder` an object it builds directly; any other encoder goes
/// field by field. Both must write the same object.
@Suite struct TaskRecordEncodingTests {
    static let records: [TaskRecord] = [
        TaskRecord(
            id: 42, ownerID: 7, ownerUsername: "ana", fields: TaskFields(
                title: "Ship \"it\" / é 🚀", description: nil, completed: false, priority: .high,
                dueDate: nil, tags: []
            ),
            createdAt: Timestamp(milliseconds: 1_790_000_000_123), updatedAt: Timestamp(milliseconds: 1_790_000_000_123),
            permission: .owner, shareCount: 0
        ),
        TaskRecord(
            id: Int64.max, ownerID: 1, ownerUsername: "bo", fields: TaskFields(
                title: "t", description: "line\nbreak", completed: true, priority: .low,
                dueDate: DayDate(year: 2026, month: 12, day: 31), tags: ["a", "B c"]
            ),
            createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 86_400_001),
            permission: .view, shareCount: 3
        ),
    ]

    @Test(arguments: records)
    func directObjectEqualsFieldByFieldEncoding(record: TaskRecord) throws {
        let direct = try JSONValueEncoder().encode(record)
        let viaFoundation = try JSONParser().parse(Array(JSONEncoder().encode(record)))
        guard case .object(let directObject) = direct, case .object(let keyedObject) = viaFoundation else {
            Issue.record("not objects: \(direct) / \(viaFoundation)")
            return
        }
        #expect(directObject.members.map(\.key) == [
            "id", "ownerId", "ownerUsername", "title", "description", "completed", "priority", "dueDate", "tags",
            "createdAt", "updatedAt", "permission", "shareCount",
        ])
        #expect(directObject.members.count == keyedObject.members.count)
        for member in directObject.members {
            #expect(keyedObject[member.key] == member.value, "\(member.key)")
        }
    }

    @Test func nestedRecordsTakeTheDirectPathToo() throws {
        struct Page: Encodable { let items: [TaskRecord] }
        let page = try JSONValueEncoder().encode(Page(items: Self.records))
        let expected = try Self.records.map { try JSONValueEncoder().encode($0) }
        #expect(page.objectValue?["items"] == .array(expected))
    }

    @Test func listPageBuildsTheObjectItsEncodableConformanceWrites() throws {
        let page = TaskMethods.Page(items: Self.records, total: 1_234, limit: 50, offset: 100)
        let direct = try JSONValueEncoder().encode(page)
        let viaFoundation = try JSONParser().parse(Array(JSONEncoder().encode(page)))
        #expect(direct.objectValue?.keys == ["items", "total", "limit", "offset"])
        #expect(direct.objectValue?["total"] == .number(JSONNumber(1_234)))
        #expect(direct.objectValue?["offset"] == .number(JSONNumber(100)))
        #expect(direct.objectValue?["items"] == .array(try Self.records.map { try JSONValueEncoder().encode($0) }))
        guard case .array(let foundationItems)? = viaFoundation.objectValue?["items"] else {
            Issue.record("no items in \(viaFoundation)")
            return
        }
        #expect(foundationItems.count == Self.records.count)
        for key in ["total", "limit", "offset"] {
            #expect(viaFoundation.objectValue?[key] == direct.objectValue?[key], "\(key)")
        }
    }
}
