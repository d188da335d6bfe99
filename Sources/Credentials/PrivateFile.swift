import ByteCoding

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small secret kept in a file of the data directory that only the server's user may read:
/// the JWT secret (``SecretStore``), the VAPID private key (the `WebPush` module).
///
/// Reading refuses a file that group or others may read or write, rather than using a secret
/// that may be known. Creating writes a private temporary file (mode 0600 from `open` on) and
/// then links it into place, so the name never points at a partly written or readable-by-others
/// file, and two servers starting together end up with the same secret.
public enum PrivateFile {
    /// The file's bytes, or nil when it does not exist.
    ///
    /// - Throws: ``CredentialsError/Code-swift.struct/secretFileInsecure`` when group or others
    ///   have any access, ``CredentialsError/Code-swift.struct/secretFileIO`` when it is not a
    ///   regular file (a symbolic link included), is larger than `maximumBytes`, or cannot be read.
    public static func load(at path: String, maximumBytes: Int) throws(CredentialsError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw CredentialsError(.secretFileIO, "cannot open \(path): \(describe(code))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CredentialsError(.secretFileIO, "cannot stat \(path): \(describe(errno))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CredentialsError(.secretFileIO, "\(path) is not a regular file")
        }
        let permissions = info.st_mode & 0o777
        guard permissions & 0o077 == 0 else {
            throw CredentialsError(
                .secretFileInsecure,
                "\(path) has mode \(String(permissions, radix: 8)); group and others must have no access (chmod 600)"
            )
        }
        guard info.st_size <= maximumBytes else {
            throw CredentialsError(.secretFileIO, "\(path) is \(info.st_size) bytes, too large for a secret")
        }
        var contents = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CredentialsError(.secretFileIO, "cannot read \(path): \(describe(errno))")
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[..<count])
            guard contents.count <= maximumBytes else {
                throw CredentialsError(.secretFileIO, "\(path) grew too large for a secret while being read")
            }
        }
        return contents
    }

    /// Writes `contents` to a private temporary file in `directory` and links it to
    /// `directory/fileName`; false when that name already exists (nothing is replaced).
    ///
    /// `link` rather than `rename`: both are atomic, but `link` refuses to replace an existing
    /// file, so two servers starting together end up sharing one secret instead of each keeping
    /// one that is no longer on disk.
    public static func createExclusively(
        directory: String,
        fileName: String,
        contents: [UInt8]
    ) throws(CredentialsError) -> Bool {
        let path = directory + "/" + fileName
        let temporary = directory + "/." + fileName + ".tmp-" + Hex.encode(OpenSSLCrypto.randomBytes(8))
        // 0600 from creation: the umask can only remove bits, and fchmod below restores the
        // owner's if a strict umask removed them.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CredentialsError(.secretFileIO, "cannot create \(temporary): \(describe(errno))")
        }
        var linked = false
        defer { unlink(temporary) }
        do {
            defer { close(fd) }
            guard fchmod(fd, 0o600) == 0 else {
                throw CredentialsError(.secretFileIO, "cannot chmod \(temporary): \(describe(errno))")
            }
            var written = 0
            while written < contents.count {
                let count = contents.withUnsafeBytes {
                    write(fd, $0.baseAddress! + written, $0.count - written)
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw CredentialsError(.secretFileIO, "cannot write \(temporary): \(describe(errno))")
                }
                written += count
            }
            guard fsync(fd) == 0 else {
                throw CredentialsError(.secretFileIO, "cannot sync \(temporary): \(describe(errno))")
            }
        }
        if link(temporary, path) == 0 {
            linked = true
        } else if errno != EEXIST {
            throw CredentialsError(.secretFileIO, "cannot link \(temporary) to \(path): \(describe(errno))")
        }
        if linked { syncDirectory(directory) }
        return linked
    }

    /// Makes the new directory entry durable; best effort, as the file is already complete.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
