/// Checks well-formed UTF-8 (Unicode 15, table 3-7): no overlong forms, no surrogates, nothing
/// above U+10FFFF.
///
/// - Returns: the offset of the first byte of the first ill-formed sequence in `range`, or nil.
func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> Int? {
    var i = range.lowerBound
    let end = range.upperBound
    @inline(__always) func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
        k < end && bytes[k] >= low && bytes[k] <= high
    }
    while i < end {
        let b = bytes[i]
        if b < 0x80 {
            i += 1
            continue
        }
        let length: Int
        switch b {
        case 0xC2...0xDF:
            guard continuation(i + 1) else { return i }
            length = 2
        case 0xE0:
            guard continuation(i + 1, 0xA0), continuation(i + 2) else { return i }
            length = 3
        case 0xE1...0xEC, 0xEE...0xEF:
            guard continuation(i + 1), continuation(i + 2) else { return i }
            length = 3
        case 0xED:
            guard continuation(i + 1, 0x80, 0x9F), continuation(i + 2) else { return i }
            length = 3
        case 0xF0:
            guard continuation(i + 1, 0x90), continuation(i + 2), continuation(i + 3) else { return i }
            length = 4
        case 0xF1...0xF3:
            guard continuation(i + 1), continuation(i + 2), continuation(i + 3) else { return i }
            length = 4
        case 0xF4:
            guard continuation(i + 1, 0x80, 0x8F), continuation(i + 2), continuation(i + 3) else { return i }
            length = 4
        default:
            return i
        }
        i += length
    }
    return nil
}
