import NIOCore

/// The bridge's header and body parsers as public entry points, for the fuzz package (Fuzz/),
/// which sees only public API. Each runs a parser over untrusted input the way a request would.
public enum RESTDecoding {
    /// `Range` against a few file sizes, including empty and the largest; the parsed range is
    /// checked to lie inside the file.
    public static func exercise(range header: String) {
        for size: Int64 in [0, 1, 100, 1 << 40, .max] {
            if case .partial(let start, let end) = ByteRange.evaluate(header, size: size) {
                precondition(0 <= start && start <= end && end < size, "range \(start)-\(end) outside a file of \(size) bytes")
            }
        }
    }

    /// A part's `Content-Disposition` read, its filename sanitized, and written back as a
    /// download's header (which must stay a single header line).
    public static func exercise(contentDisposition value: String) {
        _ = ContentDisposition.parameters(value)
        guard let part = ContentDisposition.parse(value), let filename = part.filename else { return }
        let header = ContentDisposition.attachment(filename: ContentDisposition.sanitizedFilename(filename))
        precondition(!header.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }), "control byte in \(header)")
    }

    /// A `multipart/form-data` body, fed in pieces of `chunkSize` bytes (the body arriving in
    /// several reads) with `contentType` giving the boundary, as an upload of at most
    /// `maxFileBytes`; whether the upload was accepted.
    @discardableResult
    public static func exercise(multipart body: [UInt8], contentType: String, chunkSize: Int, maxFileBytes: Int64) -> Bool {
        guard let boundary = try? MultipartUpload.boundary(contentType: contentType) else { return false }
        let upload = MultipartUpload(boundary: boundary, maxFileBytes: maxFileBytes,
                                     allowedTypes: Set(ContentSniffer.allowedTypes), chunkCapacity: 4096)
        var drained: Int64 = 0
        var rest = body[...]
        do {
            while !rest.isEmpty {
                let piece = rest.prefix(max(1, chunkSize))
                rest = rest.dropFirst(piece.count)
                try upload.feed(ByteBuffer(bytes: piece))
                while let chunk = upload.takeChunk(minimum: 1024) { drained += Int64(chunk.readableBytes) }
            }
            while let chunk = upload.takeChunk(minimum: 0) { drained += Int64(chunk.readableBytes) }
            let file = try upload.finish()
            precondition(file.size == drained && file.size <= maxFileBytes, "file of \(file.size) bytes, \(drained) handed out")
            return true
        } catch {
            return false
        }
    }
}
