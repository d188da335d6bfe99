#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Handlers

/// The system's compiled zone database (`/usr/share/zoneinfo`, Debian's `tzdata`): the domain's
/// ``Handlers/ZoneSource`` in production.
///
/// The domain checks a name's syntax before asking, so `root` + `/` + name stays inside `root`.
public struct ZoneDirectory: ZoneSource {
    public let root: String

    /// - Parameter root: the zone database (tests point it elsewhere).
    public init(root: String = "/usr/share/zoneinfo") {
        self.root = root
    }

    public func tzif(named identifier: String) -> [UInt8]? {
        guard !root.isEmpty, !root.utf8.contains(0), !identifier.utf8.contains(0) else { return nil }
        let separator = root.hasSuffix("/") ? "" : "/"
        return Self.readFile(root + separator + identifier)
    }

    /// The whole of a regular file of at most ``Handlers/ZoneSourceLimits/maxBytes`` bytes, or
    /// nil. Non-blocking open and the regular-file check mean a FIFO or device under `root`
    /// cannot hang the caller.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= ZoneSourceLimits.maxBytes else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            // The file may have grown since fstat; a zone file never legitimately does.
            guard bytes.count <= ZoneSourceLimits.maxBytes else { return nil }
        }
    }
}
