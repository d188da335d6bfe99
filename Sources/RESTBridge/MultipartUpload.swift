import JSON
import JSONRPC
import MultipartKit
import NIOCore

/// One `multipart/form-data` upload being parsed as it streams: finds the single `file` part,
/// checks its size against the limit and its type from its bytes, and hands its content out in
/// chunks (``takeChunk(minimum:)``) for the blob store. Other fields are read and dropped.
///
/// Bad input is an ``RPCError``: -32602 for malformed multipart, a part's headers over
/// ``maxPartHeaderBytes``, a part without a filename, several file parts, an unterminated body or
/// an empty file; -32013 over the limit; -32015 for a type outside the allow-list.
final class MultipartUpload {
    let maxFileBytes: Int64
    /// Bytes of everything else (headers, other fields, boundaries) allowed beside the file.
    static let overheadBytes: Int64 = 64 << 10
    /// Bytes of one part's header section, from its boundary to the blank line (before the first
    /// part also the preamble, after the last the epilogue): 8 KiB, counted as they stream. The
    /// parser keeps a header line in memory until its CR, so this is also the most one line can
    /// cost; a browser's part headers (a Content-Disposition with a long filename, a
    /// Content-Type) take a few hundred bytes.
    static let maxPartHeaderBytes = 8 << 10
    private let allowedTypes: Set<String>
    private let parser: MultipartParser
    private var closing: MarkerScanner
    private var headerGuard: MultipartHeaderGuard

    private var partHeaders: [(String, String)] = []
    /// The parser is in a part's body: bytes go out through `onBody` as they arrive.
    private var inBody = false
    /// Bytes fed to the parser since the current part's header section began.
    private var headerSectionBytes = 0
    private var partEvaluated = false
    private var inFilePart = false
    private var fileSeen = false
    private var fileComplete = false
    private(set) var filename = "file"
    private var sniffer = ContentSniffer()
    private var sniffed = false
    private var prefix: [UInt8] = []
    private(set) var fileBytes: Int64 = 0
    private var otherBytes: Int64 = 0
    private var staged: ByteBuffer
    private var failure: RPCError?

    /// The boundary of a `multipart/form-data` Content-Type, or an error for any other type or
    /// a missing or malformed boundary (RFC 2046 §5.1.1: 1–70 characters of a restricted set).
    static func boundary(contentType: String?) throws(RPCError) -> String {
        guard let contentType else { throw .invalidParams(field: "file", message: "must be sent as multipart/form-data") }
        let parameters = ContentDisposition.parameters(contentType)
        guard parameters.first?.0.lowercased() == "multipart/form-data" else {
            throw .invalidParams(field: "file", message: "must be sent as multipart/form-data")
        }
        guard let boundary = parameters.dropFirst().first(where: { $0.0.lowercased() == "boundary" })?.1,
              (1...70).contains(boundary.utf8.count),
              boundary.utf8.allSatisfy({ Self.boundaryCharacters.contains($0) }),
              boundary.utf8.last != 0x20
        else { throw .invalidParams(field: "file", message: "multipart boundary is missing or malformed") }
        return boundary
    }

    private static let boundaryCharacters = Set(Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8))

    init(boundary: String, maxFileBytes: Int64, allowedTypes: Set<String>, chunkCapacity: Int) {
        self.maxFileBytes = maxFileBytes
        self.allowedTypes = allowedTypes
        self.parser = MultipartParser(boundary: boundary)
        self.closing = MarkerScanner([Array("\r\n--\(boundary)--".utf8)])
        self.headerGuard = MultipartHeaderGuard(boundary: boundary)
        // Grown as bytes arrive: a small upload (or many at once) never pays for a whole chunk.
        self.staged = ByteBufferAllocator().buffer(capacity: 0)
        self.parser.onHeader = { [unowned self] name, value in self.header(name, value) }
        self.parser.onBody = { [unowned self] body in self.body(&body) }
        self.parser.onPartComplete = { [unowned self] in self.partComplete() }
    }

    /// File bytes waiting for the blob store.
    var stagedBytes: Int { staged.readableBytes }

    /// Parses more of the request body.
    func feed(_ buffer: ByteBuffer) throws(RPCError) {
        if let failure { throw failure }
        closing.feed(buffer)
        var rest = buffer
        // Both refusals are sticky: the parser must see no more input after a piece it did not
        // see (the guard's refusal) or threw on (it keeps no consistent state then).
        do throws(RPCError) {
            // Outside a body the parser is given at most what is left of the header budget, so it
            // never holds more than ``maxPartHeaderBytes`` of one header section. A buffer that
            // ends a body and starts the next part's headers is fed whole: its header bytes (at
            // most one read) count from the next feed on.
            while rest.readableBytes > 0, failure == nil {
                let piece: ByteBuffer
                if inBody {
                    piece = rest
                    rest.moveReaderIndex(forwardBy: rest.readableBytes)
                } else {
                    let budget = Self.maxPartHeaderBytes - headerSectionBytes
                    guard budget > 0 else {
                        fail(.invalidParams(field: "file", message: "a part's headers are longer than \(Self.maxPartHeaderBytes) bytes"))
                        break
                    }
                    piece = rest.readSlice(length: min(budget, rest.readableBytes))!
                    headerSectionBytes += piece.readableBytes
                }
                guard headerGuard.admits(piece) else { throw malformed }
                do {
                    try parser.execute(piece)
                } catch {
                    throw malformed
                }
            }
        } catch {
            fail(error)
            throw error
        }
        if let failure { throw failure }
    }

    /// Up to all staged file bytes once at least `minimum` are staged (or any, with 0).
    func takeChunk(minimum: Int) -> ByteBuffer? {
        guard staged.readableBytes > 0, staged.readableBytes >= minimum else { return nil }
        let chunk = staged
        staged = ByteBufferAllocator().buffer(capacity: 0)
        return chunk
    }

    /// At the end of the body: the file's name and type, or why the upload is refused.
    func finish() throws(RPCError) -> (filename: String, contentType: String, size: Int64) {
        if let failure { throw failure }
        guard closing.allFound else { throw .invalidParams(field: "file", message: "multipart body is incomplete (no closing boundary)") }
        guard fileSeen, fileComplete else { throw .invalidParams(field: "file", message: "is required (a part named file with a filename)") }
        guard let type = sniffer.finish(), allowedTypes.contains(type) else { throw unsupported }
        return (filename, type, fileBytes)
    }

    private var malformed: RPCError { .invalidParams(field: "file", message: "malformed multipart body") }

    private var unsupported: RPCError {
        RPCError(.unsupportedFileType, message: "Unsupported file type",
                 data: ["allowed": .array(allowedTypes.sorted().map(JSONValue.string))])
    }

    private func header(_ name: String, _ value: String) {
        if partEvaluated {
            // A header after body bytes cannot happen (the parser reads headers first); a new
            // part starts with partComplete.
            return
        }
        otherBytes += Int64(name.utf8.count + value.utf8.count + 4)
        partHeaders.append((name, value))
        checkOverhead()
    }

    private func evaluatePart() {
        guard !partEvaluated else { return }
        partEvaluated = true
        let disposition = partHeaders.first { $0.0.lowercased() == "content-disposition" }.flatMap { ContentDisposition.parse($0.1) }
        guard let disposition else {
            fail(.invalidParams(field: "file", message: "a part has no form-data Content-Disposition"))
            return
        }
        let isFile = disposition.name == "file" || disposition.filename != nil
        guard isFile else { return }
        guard disposition.name == "file" else {
            fail(.invalidParams(field: "file", message: "the file must be sent in the field named file"))
            return
        }
        guard let raw = disposition.filename else {
            fail(.invalidParams(field: "file", message: "the file part has no filename"))
            return
        }
        guard !fileSeen else {
            fail(.invalidParams(field: "file", message: "only one file part is allowed"))
            return
        }
        fileSeen = true
        inFilePart = true
        filename = ContentDisposition.sanitizedFilename(raw)
    }

    private func body(_ body: inout ByteBuffer) {
        inBody = true
        guard failure == nil else { return }
        evaluatePart()
        guard failure == nil else { return }
        guard inFilePart else {
            otherBytes += Int64(body.readableBytes)
            checkOverhead()
            return
        }
        fileBytes += Int64(body.readableBytes)
        guard fileBytes <= maxFileBytes else {
            fail(RPCError(.tooLarge, message: "File too large", data: ["limit": .number(JSONNumber(maxFileBytes))]))
            return
        }
        if !sniffed {
            prefix.append(contentsOf: body.readableBytesView)
            staged.writeBuffer(&body)
            if prefix.count >= ContentSniffer.prefixBytes { sniff() }
            return
        }
        guard sniffer.feed(body) else {
            fail(unsupported)
            return
        }
        staged.writeBuffer(&body)
    }

    /// Decides the format from the first bytes, then checks them as the rest is checked.
    private func sniff() {
        sniffed = true
        guard sniffer.begin(prefix: prefix), sniffer.feed(ByteBuffer(bytes: prefix)) else {
            fail(unsupported)
            return
        }
        prefix = []
    }

    private func partComplete() {
        inBody = false
        headerSectionBytes = 0
        guard failure == nil else { return }
        evaluatePart()
        if inFilePart, failure == nil {
            if fileBytes == 0 {
                fail(.invalidParams(field: "file", message: "is empty"))
            } else if !sniffed {
                sniff()
            }
            fileComplete = failure == nil
        }
        inFilePart = false
        partEvaluated = false
        partHeaders = []
    }

    private func checkOverhead() {
        if otherBytes > Self.overheadBytes {
            fail(RPCError(.tooLarge, message: "Request too large", data: ["limit": .number(JSONNumber(maxFileBytes))]))
        }
    }

    private func fail(_ error: RPCError) {
        if failure == nil { failure = error }
    }
}
