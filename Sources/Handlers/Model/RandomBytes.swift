/// Unpredictable bytes for session ids, Message-IDs and MIME boundaries.
///
/// The standard library's `SystemRandomNumberGenerator` is the operating system's
/// cryptographically secure source (`getrandom` on Linux, `arc4random_buf` on Darwin), so the
/// domain needs neither a C module nor a port for randomness.
enum RandomBytes {
    static func make(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
