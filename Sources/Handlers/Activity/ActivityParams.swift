import JSONRPC

/// The params of the `activity.*` methods as they arrive.
enum ActivityParams {
    struct List: Decodable, Sendable {
        var action: ActivityAction?
        var resourceType: ResourceType?
        var from: Timestamp?
        var to: Timestamp?
        var limit: Int?
        var offset: Int?
    }

    struct TaskTimeline: Decodable, Sendable {
        var taskId: Int64
        var limit: Int?
        var offset: Int?
    }
}
