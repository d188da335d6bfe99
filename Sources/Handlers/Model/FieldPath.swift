/// Dotted field paths (`changes.title`, `tags.3`), as -32602 errors name fields.
enum FieldPath {
    static func dotted(_ path: [any CodingKey]) -> String {
        let parts = path.map { key in key.intValue.map(String.init) ?? key.stringValue }
        return parts.isEmpty ? "params" : parts.joined(separator: ".")
    }
}
