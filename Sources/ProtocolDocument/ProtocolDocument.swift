/// The wire contract, compiled into the binary from `protocol/openrpc.json` at build time (a
/// SwiftPM resource embedded in code), so the server answers `rpc.discover` and
/// `GET /openrpc.json` with exactly the file in the repository and reads nothing at run time.
public enum ProtocolDocument {
    /// `protocol/openrpc.json`, byte for byte.
    public static var openRPC: [UInt8] { PackageResources.openrpc_json }
}
