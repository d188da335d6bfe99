#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import NIOCore

/// Finds which of a few byte patterns occur anywhere in a stream fed chunk by chunk, also
/// across chunk boundaries, without keeping more than the longest pattern's length.
struct MarkerScanner {
    let patterns: [[UInt8]]
    private(set) var found: [Bool]
    private var tail: [UInt8] = []
    private let keep: Int

    init(_ patterns: [[UInt8]]) {
        self.patterns = patterns
        self.found = Array(repeating: false, count: patterns.count)
        self.keep = (patterns.map(\.count).max() ?? 1) - 1
    }

    var allFound: Bool { !found.contains(false) }

    mutating func feed(_ buffer: ByteBuffer) {
        guard !allFound else { return }
        buffer.withUnsafeReadableBytes { chunk in
            // The seam: the previous chunk's tail with this chunk's head.
            var seam = tail
            seam.append(contentsOf: chunk.prefix(keep))
            seam.withUnsafeBytes { search($0) }
            search(chunk)
            if chunk.count >= keep {
                tail = Array(chunk.suffix(keep))
            } else {
                tail.append(contentsOf: chunk)
                if tail.count > keep { tail.removeFirst(tail.count - keep) }
            }
        }
    }

    /// Whether `needle` occurs in the `count` bytes at `base`: memchr for its first byte, then
    /// memcmp (glibc's memmem is a GNU extension Swift's Glibc module does not export).
    static func contains(_ base: UnsafeRawPointer, _ count: Int, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard let first = needle.first, needle.count <= count else { return needle.isEmpty }
        var offset = 0
        let lastStart = count - needle.count
        while offset <= lastStart {
            guard let hit = memchr(base + offset, Int32(first), lastStart - offset + 1) else { return false }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, needle.baseAddress!, needle.count) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    private mutating func search(_ haystack: UnsafeRawBufferPointer) {
        guard let base = haystack.baseAddress else { return }
        for (index, pattern) in patterns.enumerated() where !found[index] && haystack.count >= pattern.count {
            let hit = pattern.withUnsafeBytes { Self.contains(base, haystack.count, $0) }
            if hit { found[index] = true }
        }
    }
}
