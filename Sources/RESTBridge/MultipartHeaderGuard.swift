import NIOCore

/// Finds a non-ASCII byte in a part's header name before MultipartKit's parser sees it: that
/// parser (4.7.1) looks each header-name byte up in a 128-entry table, so a byte of 0x80 or
/// more there traps (index out of range) and would take the whole server down.
///
/// It shadows the parser's state machine byte for byte (preamble, delimiter, header name and
/// value, body, epilogue), so it knows exactly which bytes the parser reads as a header name.
/// Where the parser would throw, the shadow's next state does not matter: ``MultipartUpload``
/// stops feeding a parser once it has thrown.
struct MultipartHeaderGuard {
    private enum State {
        /// How much of the delimiter has matched (the parser's own matching, quirks included).
        case preamble(matched: Int)
        /// CR then LF after the delimiter; `sawCR` once the CR has come.
        case delimiterEnd(sawCR: Bool)
        case headerName(empty: Bool)
        case headerValue
        /// The LF after a header value's CR, or after the CR of the empty line.
        case lineEnd(headersDone: Bool)
        case body
        case boundary(matched: Int)
        case epilogue
    }

    /// `\r\n--boundary`, as the parser matches it.
    private let delimiter: [UInt8]
    private var state = State.preamble(matched: 0)

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// Whether `buffer`, continuing what came before, keeps every header name ASCII.
    mutating func admits(_ buffer: ByteBuffer) -> Bool {
        buffer.readableBytesView.allSatisfy { admits(byte: $0) }
    }

    private mutating func admits(byte: UInt8) -> Bool {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        switch state {
        case .preamble(var matched):
            // The parser lets the delimiter's leading CRLF be skipped at the start of a match.
            if matched == 0, byte == delimiter[2] {
                matched = 3
            } else if byte == delimiter[matched] {
                matched += 1
            } else {
                matched = matched > 0 && byte == delimiter[0] ? 1 : 0
            }
            state = matched == delimiter.count ? .delimiterEnd(sawCR: false) : .preamble(matched: matched)
        case .delimiterEnd(let sawCR):
            state = sawCR ? .headerName(empty: true) : .delimiterEnd(sawCR: byte == cr)
        case .headerName(let empty):
            if byte >= 0x80 { return false }
            if byte == UInt8(ascii: ":"), !empty {
                state = .headerValue
            } else if byte == cr, empty {
                state = .lineEnd(headersDone: true)
            } else {
                state = .headerName(empty: false)
            }
        case .headerValue:
            if byte == cr { state = .lineEnd(headersDone: false) }
        case .lineEnd(let headersDone):
            state = headersDone ? .body : .headerName(empty: true)
        case .body:
            if byte == delimiter[0] { state = .boundary(matched: 1) }
        case .boundary(let matched):
            if matched == delimiter.count {
                state = byte == UInt8(ascii: "-") ? .epilogue : .delimiterEnd(sawCR: true)
            } else if byte == delimiter[matched] {
                state = .boundary(matched: matched + 1)
            } else {
                state = byte == delimiter[0] ? .boundary(matched: 1) : .body
            }
        case .epilogue:
            break
        }
        return true
    }
}
