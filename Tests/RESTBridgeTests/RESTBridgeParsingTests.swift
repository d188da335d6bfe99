import JSONRPC
import NIOCore
@testable import RESTBridge
import Testing

@Suite struct ContentSnifferTests {
    func type(_ bytes: [UInt8], chunk: Int = 7) -> String? {
        var sniffer = ContentSniffer()
        guard sniffer.begin(prefix: Array(bytes.prefix(ContentSniffer.prefixBytes))) else { return nil }
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            guard sniffer.feed(ByteBuffer(bytes: bytes[start..<min(start + chunk, bytes.count)])) else { return nil }
        }
        return sniffer.finish()
    }

    @Test func allowedFormatsByTheirBytes() {
        #expect(type([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == "image/png")
        #expect(type([0xFF, 0xD8, 0xFF, 0xE0, 0]) == "image/jpeg")
        #expect(type(Array("GIF89a".utf8) + [0]) == "image/gif")
        #expect(type(Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)) == "image/webp")
        #expect(type(Array("%PDF-1.7\n".utf8) + [0, 0xFF]) == "application/pdf")
        #expect(type(Array("héllo\nwörld\t\r\n".utf8)) == "text/plain; charset=utf-8")
    }

    @Test func officeDocumentsAreToldApartFromZipAcrossChunkBoundaries() {
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 1, count: 600)
        #expect(type(zip + Array("[Content_Types].xml....word/document.xml".utf8), chunk: 5) == ContentSniffer.Office.docx)
        #expect(type(zip + Array("[Content_Types].xml xl/workbook.xml".utf8), chunk: 3) == ContentSniffer.Office.xlsx)
        #expect(type(zip + Array("readme.txt".utf8)) == "application/zip")
        let ole: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 600)
        #expect(type(ole + ContentSniffer.utf16LE("PowerPoint Document"), chunk: 11) == ContentSniffer.Office.ppt)
        #expect(type(ole) == nil)  // an OLE file that is no Office document (an installer, say)
    }

    @Test func refusedContent() {
        #expect(type(Array("MZ".utf8) + [0x90, 0, 3, 0]) == nil)
        #expect(type([0x7F] + Array("ELF".utf8) + [2, 1, 1, 0]) == nil)
        #expect(type(Array("  <svg xmlns='http://www.w3.org/2000/svg'/>".utf8)) == nil)
        #expect(type(Array("\u{FEFF}<!DOCTYPE html><p>".utf8)) == nil)
        #expect(type(Array("text then a NUL".utf8) + [0] + Array("after".utf8)) == nil)
        #expect(type(Array("valid start".utf8) + [UInt8](repeating: 0x61, count: 600) + [0xC3]) == nil)  // cut UTF-8
        #expect(type(Array("abc".utf8) + [0xFF, 0xFE]) == nil)
        #expect(type([]) == nil)
    }
}

@Suite struct ByteRangeTests {
    @Test func ranges() {
        #expect(ByteRange.evaluate(nil, size: 100) == .whole)
        #expect(ByteRange.evaluate("bytes=0-9", size: 100) == .partial(start: 0, end: 9))
        #expect(ByteRange.evaluate("bytes=90-", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange.evaluate("bytes=90-500", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange.evaluate("bytes=-10", size: 100) == .partial(start: 90, end: 99))
        #expect(ByteRange.evaluate("bytes=-500", size: 100) == .partial(start: 0, end: 99))
        #expect(ByteRange.evaluate("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange.evaluate("bytes=0-0", size: 0) == .unsatisfiable)
        for malformed in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,5-6", "bytes=", "bytes=--1", "bytes=99999999999999999999-"] {
            #expect(ByteRange.evaluate(malformed, size: 100) == .whole, "\(malformed)")
        }
    }
}

@Suite struct ContentDispositionTests {
    @Test func partHeaders() {
        #expect(ContentDisposition.parse(#"form-data; name="file"; filename="a b.png""#) == .init(name: "file", filename: "a b.png"))
        #expect(ContentDisposition.parse(#"form-data; name=file; filename="q\"uote.txt""#) == .init(name: "file", filename: "q\"uote.txt"))
        #expect(ContentDisposition.parse("form-data; name=\"file\"; filename=\"x\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")?.filename == "résumé.pdf")
        #expect(ContentDisposition.parse(#"form-data; name="note""#) == .init(name: "note", filename: nil))
        #expect(ContentDisposition.parse(#"attachment; filename="a""#) == nil)
    }

    @Test func storedNamesAreHarmless() {
        #expect(ContentDisposition.sanitizedFilename("../../etc/passwd") == "passwd")
        #expect(ContentDisposition.sanitizedFilename(#"C:\Windows\evil.exe"#) == "evil.exe")
        #expect(ContentDisposition.sanitizedFilename("a\u{0}b\u{7}c\u{85}.txt") == "abc.txt")
        #expect(ContentDisposition.sanitizedFilename("..") == "file")
        #expect(ContentDisposition.sanitizedFilename("") == "file")
        #expect(ContentDisposition.sanitizedFilename(String(repeating: "é", count: 400)).unicodeScalars.count == 255)
    }

    @Test func attachmentIsRFC6266() {
        #expect(ContentDisposition.attachment(filename: "plain.txt") == #"attachment; filename="plain.txt"; filename*=UTF-8''plain.txt"#)
        #expect(ContentDisposition.attachment(filename: "résumé \"v2\"; x.pdf")
                == #"attachment; filename="r_sum_ _v2_; x.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22%3B%20x.pdf"#)
    }
}

@Suite struct MultipartUploadTests {
    func run(_ body: String, chunk: Int = 3, limit: Int64 = 1000) throws(RPCError) -> (String, String, Int64, [UInt8]) {
        let upload = MultipartUpload(boundary: "XX", maxFileBytes: limit, allowedTypes: Set(ContentSniffer.allowedTypes), chunkCapacity: 16)
        let bytes = Array(body.utf8)
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try upload.feed(ByteBuffer(bytes: bytes[start..<min(start + chunk, bytes.count)]))
            if let piece = upload.takeChunk(minimum: 0) { out += piece.readableBytesView }
        }
        let file = try upload.finish()
        if let piece = upload.takeChunk(minimum: 0) { out += piece.readableBytesView }
        return (file.filename, file.contentType, file.size, out)
    }

    @Test func streamsTheFilePartAndSkipsOthers() throws {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
            + "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../n.txt\"\r\nContent-Type: image/png\r\n\r\nline one\r\nline two\r\n--XX--\r\n"
        let (name, type, size, bytes) = try run(body)
        #expect(name == "n.txt" && type == "text/plain; charset=utf-8" && size == 18)
        #expect(bytes == Array("line one\r\nline two".utf8))
    }

    @Test func badBodies() {
        let file = "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
        #expect(throws: RPCError.self) { try run(file + "text\r\n") }  // no closing boundary
        #expect(throws: RPCError.self) { try run("--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--XX--\r\n") }
        #expect(throws: RPCError.self) { try run(file + "a\r\n" + file + "b\r\n--XX--\r\n") }
        #expect(throws: RPCError.self) { try run(file + "\r\n--XX--\r\n") }  // empty
        #expect(throws: RPCError.self) { try run("--XX\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--XX--\r\n") }
        do {
            _ = try run(file + String(repeating: "a", count: 1001) + "\r\n--XX--\r\n")
            Issue.record("over the limit was accepted")
        } catch {
            #expect(error.code == .tooLarge)
        }
        do {
            _ = try run("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nMZ\u{0}\u{0}\r\n--XX--\r\n")
            Issue.record("an executable was accepted")
        } catch {
            #expect(error.code == .unsupportedFileType)
        }
    }

    /// An endless header line (or preamble) fed one read at a time is refused by the read that
    /// crosses ``MultipartUpload/maxPartHeaderBytes``, and a single huge read at once: the parser,
    /// which keeps a line until its CR, never holds more.
    @Test(arguments: [
        "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"",
        "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nX-",
        "",
    ])
    func partHeadersAreCappedWhileTheyStream(opening: String) {
        for read in [1024, 1 << 20] {
            let upload = MultipartUpload(boundary: "XX", maxFileBytes: 1000, allowedTypes: Set(ContentSniffer.allowedTypes), chunkCapacity: 16)
            var accepted = 0
            var refusal: RPCError?
            do {
                try upload.feed(ByteBuffer(string: opening))
                accepted += opening.utf8.count
                while accepted < 1 << 20 {
                    try upload.feed(ByteBuffer(repeating: UInt8(ascii: "A"), count: read))
                    accepted += read
                }
            } catch {
                refusal = error
            }
            #expect(refusal?.code == .invalidParams, "read \(read)")
            #expect(refusal?.fieldErrors.first?.message == "a part's headers are longer than 8192 bytes")
            #expect(accepted <= MultipartUpload.maxPartHeaderBytes, "read \(read): \(accepted) bytes accepted")
        }
    }

    /// The cap is per part: several parts whose headers together exceed it pass, fed byte-wise
    /// and at once.
    @Test(arguments: [1, 3, 1 << 20])
    func theHeaderCapIsPerPart(chunk: Int) throws {
        let pad = String(repeating: "p", count: 5000)
        let body = "--XX\r\nContent-Disposition: form-data; name=\"note\"\r\nX-Pad: \(pad)\r\n\r\nhi\r\n"
            + "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n.txt\"\r\nX-Pad: \(pad)\r\n\r\ntext\r\n--XX--\r\n"
        let (name, _, size, bytes) = try run(body, chunk: chunk)
        #expect(name == "n.txt" && size == 4 && bytes == Array("text".utf8))
    }

    /// Found by `scripts/fuzz multipart`: MultipartKit's parser traps (index out of range) on a
    /// non-ASCII byte in a part's header name, which took the whole server down with one upload.
    @Test func nonASCIIHeaderNameIsMalformedNotATrap() {
        let fuzzed = "--XX\r\nContent-Dispositi\u{AA}on: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\ntext\r\n"
        for chunk in [1, 3, 1000] {
            #expect(throws: RPCError.self) { try run(fuzzed, chunk: chunk) }
        }
        // A header value runs to its CR (a lone LF stays in it), so the name after it is checked.
        let lineFeedInValue = "--XX\r\nContent-Disposition: form-data;\n\r\n\u{89}PNG: x\r\n\r\ntext\r\n--XX--\r\n"
        #expect(throws: RPCError.self) { try run(lineFeedInValue) }
        // After a header's value has mentioned the boundary, the next name is still checked.
        let later = "--XX\r\nX-Note: --XX\r\nX--XX\u{E9}: v\r\n\r\ntext\r\n--XX--\r\n"
        #expect(throws: RPCError.self) { try run(later) }
    }

    /// Non-ASCII stays fine everywhere else: header values, the file's lines, the epilogue.
    @Test func nonASCIIOutsideHeaderNamesIsAccepted() throws {
        let body = "pr\u{E9}amble\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\u{E9}sum\u{E9}.txt\"\r\n\r\n"
            + "\u{E9}t\u{E9} --XX\u{E9}\r\n\u{E9}\r\n--XX--\r\n\u{E9}pilogue"
        let (name, _, _, bytes) = try run(body)
        #expect(name == "résumé.txt")
        #expect(bytes == Array("\u{E9}t\u{E9} --XX\u{E9}\r\n\u{E9}".utf8))
    }

    @Test func boundaries() throws {
        #expect(try MultipartUpload.boundary(contentType: "multipart/form-data; boundary=----abc123") == "----abc123")
        #expect(try MultipartUpload.boundary(contentType: #"Multipart/Form-Data; charset=utf-8; boundary="a b""#) == "a b")
        for bad in [nil, "text/plain", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\(String(repeating: "x", count: 71))",
                    "multipart/form-data; boundary=a{b}"] {
            #expect(throws: RPCError.self, "\(bad ?? "nil")") { _ = try MultipartUpload.boundary(contentType: bad) }
        }
    }

    @Test func routes() {
        #expect(RESTRoute.match(path: "/tasks/12/files") == .taskFiles(taskID: 12))
        #expect(RESTRoute.match(path: "/files/7") == .file(id: 7))
        #expect(RESTRoute.match(path: "/users/me/avatar") == .myAvatar)
        #expect(RESTRoute.match(path: "/users/3/avatar") == .avatar(userID: 3))
        for bad in ["/tasks/0/files", "/tasks/012/files", "/files/-1", "/files/1/2", "/files/", "/tasks/x/files", "/files/99999999999999999999"] {
            #expect(RESTRoute.match(path: bad) == nil, "\(bad)")
        }
    }
}
