/// The members of the audience sets this instance delivered to lately, so an event on a task
/// with 10,000 viewers costs one read of its set, not one per event (docs/events.md,
/// "Audience sets"). Sets never change once written, so an entry is never stale; a member whose
/// account is gone has no session to deliver to.
///
/// Bounded by members held and by sets held: past either bound the oldest sets go first (an
/// evicted set costs one read when an event names it again). The set bound matters as much as
/// the member bound: every task has its own set, so a server where tasks are created all day
/// would otherwise keep one small set per task ever created (the hour-long soak showed RSS
/// creeping by about 100 KiB a minute at 50 new tasks a second). Used by the dispatcher's one
/// task only, so it needs no lock.
struct AudienceCache {
    private var sets: [Int64: [LoggedEvent.Recipient]] = [:]
    private var order: [Int64] = []
    private var oldest = 0
    private var members = 0
    let memberLimit: Int
    let setLimit: Int

    init(memberLimit: Int = 1_000_000, setLimit: Int = 20_000) {
        self.memberLimit = memberLimit
        self.setLimit = max(1, setLimit)
    }

    /// Sets held now.
    var count: Int { self.sets.count }
    /// Members held now, over all sets.
    var memberCount: Int { self.members }

    subscript(setID: Int64) -> [LoggedEvent.Recipient]? {
        self.sets[setID]
    }

    mutating func insert(_ audience: [LoggedEvent.Recipient], setID: Int64) {
        guard self.sets[setID] == nil else { return }
        self.sets[setID] = audience
        self.order.append(setID)
        self.members += audience.count
        while self.members > self.memberLimit || self.sets.count > self.setLimit, self.oldest < self.order.count - 1 {
            let evicted = self.order[self.oldest]
            self.oldest += 1
            self.members -= self.sets.removeValue(forKey: evicted)?.count ?? 0
        }
        if self.oldest > 1_024, self.oldest * 2 > self.order.count {
            self.order.removeFirst(self.oldest)
            self.oldest = 0
        }
    }
}
