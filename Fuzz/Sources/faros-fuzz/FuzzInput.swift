/// One fuzzer input: a few leading bytes may be taken as choices (a split point, a flag), and
/// the rest is the data for the decoder.
struct FuzzInput {
    private(set) var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    /// The next byte as a choice (0 once the input is used up).
    mutating func choice() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    /// Everything not yet taken.
    var rest: [UInt8] { Array(bytes) }

    /// Everything not yet taken, as text (invalid UTF-8 repaired, as `String(decoding:)` does
    /// with a header value or a setting read from the environment).
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
