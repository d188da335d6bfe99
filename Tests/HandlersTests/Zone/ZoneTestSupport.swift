#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import Handlers
import SystemTime

/// The system zone database the tests read real zones from.
let systemZoneRoot = "/usr/share/zoneinfo"

/// A system zone the tests rely on; a missing zone fails the test rather than skipping it.
func systemZone(_ identifier: String) throws -> ZoneInfo {
    try #require(ZoneInfo.load(identifier: identifier, source: ZoneDirectory()), "no zone \(identifier) in \(systemZoneRoot)")
}

/// A wall time for tests, failing the test for an invalid one.
func local(_ year: Int64, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int) throws -> LocalDateTime {
    try #require(LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute))
}

/// A deterministic generator (SplitMix64), so a fuzz failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The bytes of a file, through Glibc (the tests, like the library, avoid Foundation).
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        if count == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<count])
    }
}

struct TemporaryRootError: Error {}

/// A temporary directory standing in for a zone database root, removed by ``remove()``.
struct TemporaryRoot {
    let path: String
    private(set) var created: [String] = []

    init() throws {
        var template = Array("/tmp/zone-tests-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) } != nil
        }
        #expect(made)
        guard made else { throw TemporaryRootError() }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `bytes` to `relative` (one level of directory at most), creating the directory.
    mutating func write(_ relative: String, _ bytes: [UInt8]) throws {
        let parts = relative.split(separator: "/")
        if parts.count == 2 {
            let directory = path + "/" + parts[0]
            if mkdir(directory, 0o755) == 0 { created.append(directory) }
        }
        let file = path + "/" + relative
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TemporaryRootError() }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TemporaryRootError() }
        created.append(file)
    }

    func remove() {
        for entry in created.reversed() {
            if unlink(entry) != 0 { rmdir(entry) }
        }
        rmdir(path)
    }
}

/// Builds TZif files byte by byte (RFC 8536 §3), so tests control every field.
struct TZifBuilder {
    struct TimeType {
        var offset: Int32
        var isDST: Bool
        var abbreviationIndex: UInt8
    }

    var transitions: [Int64] = []
    var transitionTypes: [UInt8] = []
    var types: [TimeType] = [TimeType(offset: 0, isDST: false, abbreviationIndex: 0)]
    var abbreviations: String = "UTC\0"
    /// nil builds a version 1 file (no second block, no footer).
    var footer: String? = ""
    /// Leap-second records to write (all zero): real `right/` files have them.
    var leapRecords = 0

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        appendBlock(to: &out, version: footer == nil ? 0 : UInt8(ascii: "2"), timeSize: 4)
        guard let footer else { return out }
        appendBlock(to: &out, version: UInt8(ascii: "2"), timeSize: 8)
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: footer.utf8)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private func appendBlock(to out: inout [UInt8], version: UInt8, timeSize: Int) {
        out.append(contentsOf: "TZif".utf8)
        out.append(version)
        out.append(contentsOf: [UInt8](repeating: 0, count: 15))
        let characters = Array(abbreviations.utf8)
        for count in [0, 0, leapRecords, transitions.count, types.count, characters.count] {
            Self.append(UInt64(count), bytes: 4, to: &out)
        }
        for time in transitions {
            Self.append(UInt64(bitPattern: time), bytes: timeSize, to: &out)
        }
        out.append(contentsOf: transitionTypes)
        for type in types {
            Self.append(UInt64(UInt32(bitPattern: type.offset)), bytes: 4, to: &out)
            out.append(type.isDST ? 1 : 0)
            out.append(type.abbreviationIndex)
        }
        out.append(contentsOf: characters)
        out.append(contentsOf: [UInt8](repeating: 0, count: leapRecords * (timeSize + 4)))
    }

    private static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

/// `write(2)`, named apart from ``TemporaryRoot/write(_:_:)``.
func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
