import ByteCoding
import Credentials

/// Storage keys: 32 random hex digits, so a key never says anything about the file (the
/// client's filename is metadata in the database only) and cannot name a path.
enum BlobKey {
    static func generate() -> String {
        Hex.encode(SecureRandom.bytes(16))
    }

    /// Whether `key` is one this module generated (checked before it becomes a path or a URL).
    static func isValid(_ key: String) -> Bool {
        let utf8 = key.utf8
        return utf8.count == 32 && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
