import CCrypt

/// The module's only door to libxcrypt: yescrypt settings and hashes through the re-entrant
/// `crypt_gensalt_rn` and `crypt_rn`.
///
/// Every libxcrypt call and pointer stays in this file. Both functions keep all their state in
/// buffers passed by the caller (never the static buffers of `crypt`/`crypt_gensalt`), so they are
/// safe on any thread. ``hash(password:setting:)`` blocks for the whole yescrypt computation
/// (tens to hundreds of milliseconds) and must run on a thread pool, never an event loop.
enum Yescrypt {
    /// The method prefix of yescrypt hash strings.
    static let prefix = "$y$"

    /// Random salt bytes per hash: 128 bits, the size crypt(5) recommends for yescrypt.
    static let saltByteCount = 16

    /// The longest passphrase libxcrypt accepts (`CRYPT_MAX_PASSPHRASE_SIZE` minus its NUL);
    /// longer ones fail with `ERANGE`.
    static let maxPassphraseBytes = Int(CRYPT_MAX_PASSPHRASE_SIZE) - 1

    /// The longest hash or setting string libxcrypt produces (`CRYPT_OUTPUT_SIZE` minus its NUL).
    static let maxHashBytes = Int(CRYPT_OUTPUT_SIZE) - 1

    /// The setting string (`$y$<params>$<salt>`) for `cost` and `salt`.
    static func setting(cost: PasswordCost, salt: [UInt8]) throws(CredentialsError) -> String {
        let outputSize = Int(CRYPT_GENSALT_OUTPUT_SIZE)
        var output = [CChar](repeating: 0, count: outputSize)
        let ok = salt.withUnsafeBytes { saltBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                crypt_gensalt_rn(
                    prefix, UInt(cost.rawValue),
                    saltBuffer.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(saltBuffer.count),
                    outputBuffer.baseAddress, Int32(outputSize)
                ) != nil
            }
        }
        guard ok else {
            throw CredentialsError(.hashingFailed, "crypt_gensalt_rn refused \(cost) with \(salt.count) salt bytes")
        }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The yescrypt hash of `password` under `setting` (a setting or a whole stored hash, whose
    /// parameters and salt are reused).
    ///
    /// Blocks for the full cost of the hash. The password must not contain NUL and must be at most
    /// ``maxPassphraseBytes`` long: the C interface takes a NUL-terminated string, and a NUL would
    /// silently shorten the password.
    static func hash(password: String, setting: String) throws(CredentialsError) -> String {
        guard !password.utf8.contains(0) else {
            throw CredentialsError(.passwordContainsNUL, "password contains a NUL byte")
        }
        guard !setting.utf8.contains(0), setting.utf8.count <= maxHashBytes else {
            throw CredentialsError(.malformedHash, "hash string contains NUL or is too long")
        }
        // struct crypt_data is about 32 KiB: on the heap, not on a pool thread's stack. libxcrypt
        // wipes its scratch area after each call; the output holds only the (public) hash.
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        defer { data.deallocate() }
        let result: String? = password.withCString { phrase in
            setting.withCString { settingPointer in
                guard let output = crypt_rn(phrase, settingPointer, data, Int32(size)) else { return nil }
                return String(cString: output)
            }
        }
        guard let result else {
            throw CredentialsError(.hashingFailed, "crypt_rn failed for a \(prefix) setting of \(setting.utf8.count) bytes")
        }
        return result
    }

    /// The parameter field (`j9T` in `$y$j9T$salt$hash`) that libxcrypt writes for `cost`.
    ///
    /// The field depends only on the cost, not on the salt, so a fixed salt serves.
    static func parameterField(for cost: PasswordCost) -> String? {
        guard let setting = try? setting(cost: cost, salt: [UInt8](repeating: 0x5A, count: saltByteCount)) else {
            return nil
        }
        return parameterField(ofHash: setting)
    }

    /// Whether `hash` is a whole bcrypt hash string (`$2a$`, `$2b$` or `$2y$`, a two-digit cost
    /// from 04 to 31, then 53 characters of bcrypt's base64: 22 of salt, 31 of hash), as other
    /// systems store them (FAROS, which `faros import` brings over). libxcrypt verifies them
    /// through the same ``hash(password:setting:)``; they are never written, only replaced at the
    /// next sign-in (``PasswordHasher/needsRehash(_:)``).
    static func isBcrypt(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
              let tens = digit(bytes[4]), let ones = digit(bytes[5]), (4...31).contains(tens * 10 + ones),
              bytes[6] == UInt8(ascii: "$")
        else { return false }
        return bytes[7...].allSatisfy { byte in
            byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || digit(byte) != nil
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// The parameter field of a `$y$` hash or setting string, or nil for anything else.
    static func parameterField(ofHash hash: String) -> String? {
        guard hash.hasPrefix(prefix) else { return nil }
        let rest = hash.utf8.dropFirst(prefix.utf8.count)
        guard let end = rest.firstIndex(of: UInt8(ascii: "$")), end != rest.startIndex else { return nil }
        return String(Substring(hash.utf8[rest.startIndex..<end]))
    }
}
