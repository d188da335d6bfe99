import RESTBridge

enum RESTTargets {
    /// A `multipart/form-data` upload: the first line of the input is the Content-Type (with the
    /// boundary), the rest the body, arriving in reads of a size the first byte picks, under a
    /// file limit the second byte picks (so both the limit and the overhead cap are reached).
    static func multipart(_ input: FuzzInput) {
        var input = input
        let readSize = Int(input.choice()) * 16 + 1
        let maxFileBytes = Int64(input.choice()) * 64
        let bytes = input.rest
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = Array(bytes[min(newline + 1, bytes.endIndex)...])
        RESTDecoding.exercise(multipart: body, contentType: contentType, chunkSize: readSize, maxFileBytes: maxFileBytes)
    }

    /// A `Range` header.
    static func range(_ input: FuzzInput) {
        RESTDecoding.exercise(range: input.text)
    }

    /// A part's `Content-Disposition` header (or a Content-Type, which shares its parameter
    /// syntax).
    static func contentDisposition(_ input: FuzzInput) {
        RESTDecoding.exercise(contentDisposition: input.text)
    }
}
