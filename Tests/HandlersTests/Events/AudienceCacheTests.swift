@testable import Handlers
import Testing

/// The dispatcher's cache of audience sets stays bounded by both members and sets, evicting the
/// oldest first, and never evicts the set it just took in.
@Suite struct AudienceCacheTests {
    static func members(_ count: Int, from first: Int64 = 1) -> [LoggedEvent.Recipient] {
        (0..<Int64(count)).map { LoggedEvent.Recipient(userID: first + $0, permission: .view) }
    }

    @Test func manySmallSetsAreBoundedBySetCount() {
        var cache = AudienceCache(memberLimit: 1_000_000, setLimit: 100)
        for id in 1...10_000 as ClosedRange<Int64> {
            cache.insert(Self.members(1, from: id), setID: id)
        }
        #expect(cache.count == 100)
        #expect(cache.memberCount == 100)
        #expect(cache[9_900] == nil)
        #expect(cache[9_901] == Self.members(1, from: 9_901))
        #expect(cache[10_000] == Self.members(1, from: 10_000))
    }

    @Test func largeSetsAreBoundedByMembersAndTheNewestStays() {
        var cache = AudienceCache(memberLimit: 25_000, setLimit: 100)
        for id in 1...5 as ClosedRange<Int64> {
            cache.insert(Self.members(10_000), setID: id)
        }
        #expect(cache.count == 2)
        #expect(cache.memberCount == 20_000)
        #expect(cache[3] == nil && cache[4] != nil && cache[5] != nil)
        // A set larger than the whole bound is still held until the next one arrives.
        cache.insert(Self.members(30_000), setID: 6)
        #expect(cache.count == 1 && cache[6]?.count == 30_000)
    }

    @Test func aSetAlreadyHeldIsNotCountedTwice() {
        var cache = AudienceCache(memberLimit: 10, setLimit: 10)
        cache.insert(Self.members(3), setID: 1)
        cache.insert(Self.members(3), setID: 1)
        #expect(cache.count == 1 && cache.memberCount == 3)
    }
}
