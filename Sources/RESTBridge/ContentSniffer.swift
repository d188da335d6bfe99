package import NIOCore
import ByteCoding

/// Decides an upload's type from its bytes against the allow-list (README, "What it serves"),
/// never from the client's claim: the first bytes pick the format, and formats that need more
/// (plain text must be valid UTF-8 without NUL throughout; Office documents are told apart from
/// plain zip and from other OLE files by names inside them) are checked as the rest streams.
///
/// SVG, HTML and XML are refused even though they are text: a browser could be talked into
/// rendering them. An executable is refused whatever its name: its header (MZ, ELF, Mach-O)
/// is no allowed format, and it is not text (it holds NUL bytes).
package struct ContentSniffer {
    enum Format: Equatable {
        case png, jpeg, gif, webp, pdf, zip, ole, text
    }

    package init() {}

    /// Bytes needed before the format can be decided (fewer at the end of a short file).
    package static let prefixBytes = 512

    package static let allowedTypes = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain; charset=utf-8",
        "application/zip", Office.docx, Office.xlsx, Office.pptx, Office.doc, Office.xls, Office.ppt,
    ]

    enum Office {
        static let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        static let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        static let pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        static let doc = "application/msword"
        static let xls = "application/vnd.ms-excel"
        static let ppt = "application/vnd.ms-powerpoint"
    }

    private(set) var format: Format?
    private var utf8 = UTF8Validator()
    private var textValid = true
    private var markers: MarkerScanner?

    /// The format of a file starting with `prefix` (all of it when shorter than
    /// ``prefixBytes``), or nil when it is none of the allowed ones.
    static func format(of prefix: [UInt8]) -> Format? {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            prefix.count >= offset + magic.count && Array(prefix[offset..<(offset + magic.count)]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return .zip }
        if starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .ole }
        if !prefix.isEmpty, !prefix.contains(0), !looksLikeMarkup(prefix) { return .text }
        return nil
    }

    /// Text whose first visible character opens a tag of a document a browser renders.
    static func looksLikeMarkup(_ prefix: [UInt8]) -> Bool {
        var bytes = prefix[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        bytes = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C }
        guard bytes.first == UInt8(ascii: "<") else { return false }
        let head = String(decoding: bytes.prefix(64), as: UTF8.self).lowercased()
        return ["<!doctype", "<html", "<svg", "<?xml", "<head", "<body", "<script", "<iframe", "<!--", "<x:", "<object", "<embed"]
            .contains { head.hasPrefix($0) }
    }

    /// Starts with the file's first bytes; false when the format is refused.
    package mutating func begin(prefix: [UInt8]) -> Bool {
        guard let format = Self.format(of: prefix) else { return false }
        self.format = format
        switch format {
        case .zip:
            markers = MarkerScanner([
                Array("[Content_Types].xml".utf8), Array("word/".utf8), Array("xl/".utf8), Array("ppt/".utf8),
            ])
        case .ole:
            markers = MarkerScanner(["WordDocument", "Workbook", "PowerPoint Document"].map(Self.utf16LE))
        default:
            break
        }
        return true
    }

    static func utf16LE(_ text: String) -> [UInt8] {
        text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// Checks one more chunk of the file (the first included); false once it is refused.
    package mutating func feed(_ chunk: ByteBuffer) -> Bool {
        switch format {
        case .text:
            guard textValid else { return false }
            if chunk.readableBytesView.contains(0) || !chunk.withUnsafeReadableBytes({ utf8.validate($0) }) { textValid = false }
            return textValid
        case .zip, .ole:
            markers?.feed(chunk)
            return true
        default:
            return true
        }
    }

    /// The stored type once the whole file went through ``feed(_:)``; nil when refused.
    package func finish() -> String? {
        switch format {
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .gif: return "image/gif"
        case .webp: return "image/webp"
        case .pdf: return "application/pdf"
        case .text: return textValid && utf8.isComplete ? "text/plain; charset=utf-8" : nil
        case .zip:
            guard let found = markers?.found else { return nil }
            guard found[0] else { return "application/zip" }
            if found[1] { return Office.docx }
            if found[2] { return Office.xlsx }
            if found[3] { return Office.pptx }
            return "application/zip"
        case .ole:
            guard let found = markers?.found else { return nil }
            if found[0] { return Office.doc }
            if found[1] { return Office.xls }
            if found[2] { return Office.ppt }
            return nil
        case nil:
            return nil
        }
    }
}
