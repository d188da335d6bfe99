#if canImport(Glibc)
import Glibc
#endif
import BlobStore
import NIOCore
import NIOPosix
import RESTBridge

/// Where FAROS kept its uploads: a directory or an S3 bucket and prefix, read in chunks.
protocol SourceFiles: Sendable {
    /// Up to `length` bytes of `path` (relative to the upload root) from `offset`; nil when
    /// the file does not exist. Fewer bytes only at its end.
    func read(_ path: String, offset: Int64, length: Int) async throws -> ByteBuffer?
    /// Where `path` is, for messages.
    func describe(_ path: String) -> String
}

/// A source file that exists but cannot be read (permissions, a broken disk block): that file is
/// skipped with this reason; the rest goes on.
struct SourceFileError: Error, CustomStringConvertible {
    let description: String
}

/// FAROS's local upload directory.
struct DirectoryFiles: SourceFiles {
    let root: String
    let threadPool: NIOThreadPool

    func read(_ path: String, offset: Int64, length: Int) async throws -> ByteBuffer? {
        let full = root + "/" + path
        return try await threadPool.runIfActive {
            let fd = open(full, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw SourceFileError(description: "file \(full) cannot be opened: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            var done = 0
            while done < length {
                let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length - done) { pointer in
                    pread(fd, pointer.baseAddress, length - done, off_t(offset) + off_t(done))
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw SourceFileError(description: "file \(full) cannot be read: \(String(cString: strerror(errno)))")
                }
                if count == 0 { break }
                done += count
            }
            return buffer
        }
    }

    func describe(_ path: String) -> String { root + "/" + path }
}

/// FAROS's S3 bucket (`s3://bucket/prefix`), read with the blob store's S3 settings.
struct BucketFiles: SourceFiles {
    let store: S3BlobStore
    let bucket: String
    let prefix: String

    func read(_ path: String, offset: Int64, length: Int) async throws -> ByteBuffer? {
        do {
            return try await store.readObject(path: prefix.isEmpty ? path : prefix + "/" + path, offset: offset, length: length)
        } catch BlobStoreError.failed(let detail) where detail.contains("status 403") {
            throw SourceFileError(description: "file \(describe(path)) cannot be read: \(detail)")
        }
    }

    func describe(_ path: String) -> String { "s3://\(bucket)/" + (prefix.isEmpty ? path : prefix + "/" + path) }
}

/// Copies one source file into the Faros file store, sniffed on the way as an upload is, so a
/// file that is not an allowed type never lands (``copy(_:allowed:maxBytes:into:)``).
struct FileCopier: Sendable {
    let files: any SourceFiles
    let eventLoop: any EventLoop
    static let chunkBytes = 256 * 1024

    enum Outcome {
        case copied(key: String?, contentType: String, size: Int64)
        case refused(String)
    }

    /// Reads `path` through, checking its type against `allowed` and its size against
    /// `maxBytes`, into `writer` (a dry run passes none: then `key` is nil). The writer is
    /// committed when the file is taken and aborted when it is refused.
    func copy(_ path: String, allowed: Set<String>, maxBytes: Int64, into writer: (any BlobWriter)?) async throws -> Outcome {
        guard let first = try await files.read(path, offset: 0, length: Self.chunkBytes) else {
            try? await writer?.abort().get()
            return .refused("file \(files.describe(path)) is missing")
        }
        var sniffer = ContentSniffer()
        guard sniffer.begin(prefix: Array(first.readableBytesView.prefix(ContentSniffer.prefixBytes))) else {
            try? await writer?.abort().get()
            return .refused("file \(files.describe(path)) is not a type Faros accepts")
        }
        do {
            var chunk = first
            var size: Int64 = 0
            while true {
                size += Int64(chunk.readableBytes)
                if size > maxBytes {
                    try? await writer?.abort().get()
                    return .refused("file \(files.describe(path)) is over the upload limit of \(maxBytes) bytes")
                }
                guard sniffer.feed(chunk) else {
                    try? await writer?.abort().get()
                    return .refused("file \(files.describe(path)) is not a type Faros accepts")
                }
                if let writer { try await writer.write(chunk).get() }
                guard chunk.readableBytes == Self.chunkBytes,
                      let next = try await files.read(path, offset: size, length: Self.chunkBytes), next.readableBytes > 0
                else { break }
                chunk = next
            }
            guard let type = sniffer.finish(), allowed.contains(type) else {
                try? await writer?.abort().get()
                return .refused("file \(files.describe(path)) is not a type Faros accepts here")
            }
            if let writer { try await writer.commit().get() }
            return .copied(key: writer?.key, contentType: type, size: size)
        } catch {
            try? await writer?.abort().get()
            throw error
        }
    }
}
