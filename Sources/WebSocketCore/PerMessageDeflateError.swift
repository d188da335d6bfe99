/// Why permessage-deflate could not inflate or deflate a message.
///
/// A closed set: each case maps to one way of failing the connection, so the framing layer can
/// pick the close code without inspecting zlib's details (which never leave `Zlib.swift`).
public enum PerMessageDeflateError: Error, Sendable, Hashable {
    /// The inflated message would exceed the caller's limit; close with 1009 (Message Too Big).
    ///
    /// Raised while inflating, before more than the limit is written, so a small deflate bomb
    /// cannot make the server allocate the gigabytes it expands to.
    case messageTooBig
    /// The compressed payload is not valid DEFLATE data for this connection (corrupt stream,
    /// a reference beyond the negotiated window, a message that does not end on a block
    /// boundary); fail the connection, e.g. with 1007 (Invalid Frame Payload Data).
    case invalidData
    /// zlib refused to work (out of memory, or a state that should be impossible); close with
    /// 1011 (Internal Error).
    case internalError
}
