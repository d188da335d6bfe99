import Handlers
import JSON

/// A task's tags as `tasks.tags` stores them: a JSON array of the spelled tags, in order.
enum TagList {
    static func encode(_ tags: [String]) -> String {
        var buffer: [UInt8] = [UInt8(ascii: "[")]
        for (index, tag) in tags.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            JSONWriter.write(tag, into: &buffer)
        }
        buffer.append(UInt8(ascii: "]"))
        return String(decoding: buffer, as: UTF8.self)
    }

    static func decode(_ text: String) throws(StoreError) -> [String] {
        if text == "[]" { return [] }
        let value: JSONValue
        do {
            value = try JSONParser().parse(text)
        } catch {
            throw StoreError(.failure, underlying: error)
        }
        guard case .array(let elements) = value else { throw StoreError(.failure) }
        var tags: [String] = []
        tags.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let tag) = element else { throw StoreError(.failure) }
            tags.append(tag)
        }
        return tags
    }

    /// The tags with their folded forms, later duplicates (ignoring case) dropped.
    ///
    /// ``Handlers/TaskFields`` promises distinct tags already; this keeps `task_tags`' key from
    /// ever failing a write should a caller forget.
    static func folded(_ tags: [String]) -> [(tag: String, folded: String)] {
        var seen: Set<String> = []
        var result: [(tag: String, folded: String)] = []
        result.reserveCapacity(tags.count)
        for tag in tags {
            let folded = TextRules.fold(tag)
            if seen.insert(folded).inserted { result.append((tag, folded)) }
        }
        return result
    }
}
