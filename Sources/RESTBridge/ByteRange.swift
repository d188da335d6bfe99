/// A `Range: bytes=…` request header against a file of known size (RFC 9110 §14).
///
/// One range is served (206); a header that is not a single well-formed `bytes` range is
/// ignored and the whole file is sent (200), as §14.2 allows; a well-formed range that starts
/// past the end is 416 with `Content-Range: bytes */size`.
enum ByteRange: Equatable {
    case whole
    case partial(start: Int64, end: Int64)  // inclusive
    case unsatisfiable

    static func evaluate(_ header: String?, size: Int64) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingCharacters(" \t")
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst(6).trimmingPrefixSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingPrefixSpaces
        let last = spec[spec.index(after: dash)...].trimmingPrefixSpaces
        func number(_ text: Substring) -> Int64? {
            guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(text)
        }
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let count = number(last) else { return .whole }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .partial(start: max(0, size - count), end: size - 1)
        }
        guard let start = number(first) else { return .whole }
        var end = size - 1
        if !last.isEmpty {
            guard let value = number(last) else { return .whole }
            guard value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start: start, end: end)
    }
}

extension Substring {
    var trimmingPrefixSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
