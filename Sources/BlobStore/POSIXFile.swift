#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The system calls of ``LocalBlobStore``, each retried on EINTR and turned into
/// ``BlobStoreError``. Blocking: callers run them on a thread pool.
enum POSIXFile {
    static func failure(_ what: String, _ path: String = "") -> BlobStoreError {
        // A full disk (or quota) is its own case: the client is told so, not "unavailable".
        if errno == ENOSPC || errno == EDQUOT { return .full }
        return .failed("\(what) \(path): errno \(errno)")
    }

    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw failure("mkdir", prefix) }
        }
    }

    /// Removes every file in `directory` whose name starts with `prefix`.
    static func removePartials(in directory: String, prefix: String) throws {
        guard let dir = opendir(directory) else { throw failure("opendir", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(prefix) { names.append(name) }
        }
        for name in names { try unlinkIfPresent("\(directory)/\(name)") }
    }

    static func createExclusive(_ path: String, readable: Bool = false) throws -> Int32 {
        while true {
            let fd = open(path, (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return fd }
            if errno != EINTR { throw failure("open", path) }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            offset += n
        }
    }

    static func rewind(_ fd: Int32) throws {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw failure("lseek") }
    }

    static func sync(_ fd: Int32) throws {
        while fsync(fd) != 0 {
            if errno != EINTR { throw failure("fsync") }
        }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        try sync(fd)
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename", to) }
    }

    static func unlinkIfPresent(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path) }
    }

    /// Up to `length` bytes from `offset`; fewer only at the end of the file.
    static func read(path: String, offset: Int64, length: Int) throws -> ByteBuffer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw BlobStoreError.notFound }
            throw failure("open", path)
        }
        defer { Glibc.close(fd) }
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        var failed: BlobStoreError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
            var done = 0
            while done < length {
                let n = pread(fd, raw.baseAddress! + done, length - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = failure("pread", path)
                    break
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        if let failed { throw failed }
        return buffer
    }
}
