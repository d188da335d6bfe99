import ByteCoding

/// `Content-Disposition` both ways: reading a multipart part's (`form-data; name=…;
/// filename=…`) and writing a download's (`attachment` with RFC 6266 / RFC 8187 encoding).
package enum ContentDisposition {
    struct Part: Equatable {
        var name: String?
        var filename: String?
    }

    /// The `name` and `filename` of a part's header (`filename*` wins over `filename`); nil
    /// when it is not `form-data`.
    static func parse(_ value: String) -> Part? {
        var parameters = Self.parameters(value)
        guard let type = parameters.first?.0, type.lowercased() == "form-data", parameters.first?.1 == nil else { return nil }
        parameters.removeFirst()
        var part = Part()
        for (key, value) in parameters {
            switch key.lowercased() {
            case "name": part.name = value
            case "filename": if part.filename == nil { part.filename = value ?? "" }
            case "filename*": if let decoded = value.flatMap(decodeExtended) { part.filename = decoded }
            default: break
            }
        }
        return part
    }

    /// `type; key=value; key="quoted \" value"` split into pairs; the type has no value.
    static func parameters(_ header: String) -> [(String, String?)] {
        var result: [(String, String?)] = []
        var chars = Array(header.unicodeScalars)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\t" { chars.removeFirst() } }
        while !chars.isEmpty {
            skipSpace()
            var key = ""
            while let c = chars.first, c != "=", c != ";" { key.unicodeScalars.append(c); chars.removeFirst() }
            key = key.trimmingCharacters(" \t")
            var value: String?
            if chars.first == "=" {
                chars.removeFirst()
                skipSpace()
                var text = ""
                if chars.first == "\"" {
                    chars.removeFirst()
                    while let c = chars.first {
                        chars.removeFirst()
                        if c == "\\", let next = chars.first { text.unicodeScalars.append(next); chars.removeFirst(); continue }
                        if c == "\"" { break }
                        text.unicodeScalars.append(c)
                    }
                    while let c = chars.first, c != ";" { chars.removeFirst() }
                } else {
                    while let c = chars.first, c != ";" { text.unicodeScalars.append(c); chars.removeFirst() }
                    text = text.trimmingCharacters(" \t")
                }
                value = text
            }
            if chars.first == ";" { chars.removeFirst() }
            if !key.isEmpty { result.append((key, value)) }
        }
        return result
    }

    /// RFC 8187 `UTF-8''percent%20encoded` (the language tag ignored); nil if malformed.
    static func decodeExtended(_ value: String) -> String? {
        let pieces = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].lowercased() == "utf-8" else { return nil }
        return PercentEncoding.decodeUTF8(pieces[2])
    }

    /// The filename kept as metadata: the last path component (so `../../etc/passwd` is
    /// `passwd`), without control characters, trimmed, at most 255 characters; `file` when
    /// nothing is left. It never names a path: blobs have generated keys.
    package static func sanitizedFilename(_ raw: String) -> String {
        var name = raw.unicodeScalars.filter { !($0.value < 0x20 || (0x7F...0x9F).contains($0.value)) }
            .reduce(into: "") { $0.unicodeScalars.append($1) }
        if let slash = name.lastIndex(where: { $0 == "/" || $0 == "\\" }) {
            name = String(name[name.index(after: slash)...])
        }
        name = name.trimmingCharacters(" \t")
        if name == "." || name == ".." { name = "" }
        if name.unicodeScalars.count > 255 {
            name = String(String.UnicodeScalarView(name.unicodeScalars.prefix(255)))
        }
        return name.isEmpty ? "file" : name
    }

    /// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266
    /// §4.3): old clients read the quoted ASCII form, others the exact UTF-8 name.
    static func attachment(filename: String) -> String {
        var fallback = ""
        for scalar in filename.unicodeScalars {
            if scalar.isASCII, scalar.value >= 0x20, scalar != "\"", scalar != "\\", scalar != "%", scalar.value != 0x7F {
                fallback.unicodeScalars.append(scalar)
            } else {
                fallback += "_"
            }
        }
        // RFC 8187 §3.2.1's attr-char: letters, digits and `!#$&+-.^_`|~` stay as they are.
        let encoded = PercentEncoding.encode(filename) { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || Array("!#$&+-.^_`|~".utf8).contains(byte)
        }
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

extension String {
    func trimmingCharacters(_ set: String) -> String {
        let drop = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, drop.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, drop.contains(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
