extension ZoneInfo {
    /// Parses a TZif file (RFC 8536 §3). Version 2 and later use the 64-bit data block after
    /// the version 1 block (which is skipped by its own header's counts) and the footer's TZ
    /// string; a version 1 file uses its 32-bit block and has no rule.
    ///
    /// Files with leap-second records (the `right/` zones) are refused: their transition times
    /// count leap seconds, and everything here works in POSIX seconds that do not.
    init?(tzif bytes: [UInt8]) {
        guard bytes.count <= Self.maxFileSize else { return nil }
        var reader = ByteReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        guard first.version >= 2 else {
            guard let block = reader.dataBlock(first, timeSize: 4) else { return nil }
            self.init(block: block, rule: nil)
            return
        }
        guard reader.skip(first.blockSize(timeSize: 4)),
              let second = reader.header(), second.version >= 2,
              let block = reader.dataBlock(second, timeSize: 8),
              let footer = reader.footer()
        else { return nil }
        var rule: PosixRule?
        if !footer.isEmpty {
            guard let parsed = PosixRule(footer) else { return nil }
            rule = parsed
        }
        self.init(block: block, rule: rule)
    }

    /// Validates a decoded data block: ascending transitions, in-range type indices, sane
    /// offsets and abbreviation indices inside the character table.
    private init?(block: DataBlock, rule: PosixRule?) {
        guard block.leapCount == 0, !block.types.isEmpty else { return nil }
        for index in block.transitions.indices.dropFirst() {
            guard block.transitions[index - 1] < block.transitions[index] else { return nil }
        }
        var types: [LocalTimeType] = []
        for raw in block.types {
            guard Self.offsets.contains(raw.utcOffset), raw.isDST <= 1,
                  let abbreviation = Self.abbreviation(in: block.characters, at: Int(raw.abbreviationIndex))
            else { return nil }
            types.append(LocalTimeType(utcOffset: raw.utcOffset, isDST: raw.isDST == 1, abbreviation: abbreviation))
        }
        var indices: [Int] = []
        indices.reserveCapacity(block.transitionTypes.count)
        for index in block.transitionTypes {
            guard Int(index) < types.count else { return nil }
            indices.append(Int(index))
        }
        self.init(transitions: block.transitions, transitionTypes: indices, types: types, rule: rule)
    }

    /// The NUL-terminated abbreviation starting at `index`; nil when it runs off the table.
    private static func abbreviation(in characters: [UInt8], at index: Int) -> String? {
        guard index >= 0, index < characters.count,
              let end = characters[index...].firstIndex(of: 0)
        else { return nil }
        return String(decoding: characters[index..<end], as: UTF8.self)
    }

    /// A TZif header (RFC 8536 §3.1): the version and the six counts.
    struct Header {
        var version: Int
        var isUTCCount: Int
        var isStandardCount: Int
        var leapCount: Int
        var timeCount: Int
        var typeCount: Int
        var characterCount: Int

        /// The size of the data block that follows, with 4- or 8-byte times (§3.2).
        func blockSize(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + characterCount
                + leapCount * (timeSize + 4) + isStandardCount + isUTCCount
        }
    }

    /// A `ttinfo` record as stored, validated later.
    struct RawType {
        var utcOffset: Int32
        var isDST: UInt8
        var abbreviationIndex: UInt8
    }

    /// A data block as stored, before validation.
    struct DataBlock {
        var transitions: [Int64]
        var transitionTypes: [UInt8]
        var types: [RawType]
        var characters: [UInt8]
        var leapCount: Int
    }

    /// Big-endian reads with bounds checks: every read returns nil instead of running off the
    /// end, so a truncated or corrupt file is refused instead of trapping.
    struct ByteReader {
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var remaining: Int { bytes.count - offset }

        mutating func skip(_ count: Int) -> Bool {
            guard count >= 0, count <= remaining else { return false }
            offset += count
            return true
        }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, count <= remaining else { return nil }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func uint8() -> UInt8? {
            take(1)?.first
        }

        mutating func uint32() -> UInt32? {
            guard let slice = take(4) else { return nil }
            return slice.reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func int32() -> Int32? {
            uint32().map { Int32(bitPattern: $0) }
        }

        mutating func int64() -> Int64? {
            guard let slice = take(8) else { return nil }
            return Int64(bitPattern: slice.reduce(0) { $0 << 8 | UInt64($1) })
        }

        /// Magic, version and counts. The counts are checked against RFC 8536 §3.1's rules
        /// (at least one type and one abbreviation byte, the indicator counts zero or equal to
        /// the type count) and against the bytes left, so later arithmetic stays small.
        mutating func header() -> Header? {
            guard let magic = take(4), magic.elementsEqual("TZif".utf8),
                  let versionByte = uint8(), skip(15)
            else { return nil }
            let version: Int
            switch versionByte {
            case 0: version = 1
            case UInt8(ascii: "2")...UInt8(ascii: "9"): version = Int(versionByte - UInt8(ascii: "0"))
            default: return nil
            }
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let count = uint32(), Int(count) <= remaining else { return nil }
                counts.append(Int(count))
            }
            let header = Header(
                version: version, isUTCCount: counts[0], isStandardCount: counts[1], leapCount: counts[2],
                timeCount: counts[3], typeCount: counts[4], characterCount: counts[5]
            )
            guard header.typeCount > 0, header.characterCount > 0,
                  header.isUTCCount == 0 || header.isUTCCount == header.typeCount,
                  header.isStandardCount == 0 || header.isStandardCount == header.typeCount
            else { return nil }
            return header
        }

        /// The data block described by `header`, with 4-byte (v1) or 8-byte times.
        mutating func dataBlock(_ header: Header, timeSize: Int) -> DataBlock? {
            guard header.blockSize(timeSize: timeSize) <= remaining else { return nil }
            var transitions: [Int64] = []
            for _ in 0..<header.timeCount {
                let time = timeSize == 8 ? int64() : int32().map(Int64.init)
                guard let time else { return nil }
                transitions.append(time)
            }
            guard let transitionTypes = take(header.timeCount) else { return nil }
            var types: [RawType] = []
            for _ in 0..<header.typeCount {
                guard let offset = int32(), let isDST = uint8(), let index = uint8() else { return nil }
                types.append(RawType(utcOffset: offset, isDST: isDST, abbreviationIndex: index))
            }
            guard let characters = take(header.characterCount),
                  skip(header.leapCount * (timeSize + 4) + header.isStandardCount + header.isUTCCount)
            else { return nil }
            return DataBlock(
                transitions: transitions, transitionTypes: Array(transitionTypes), types: types,
                characters: Array(characters), leapCount: header.leapCount
            )
        }

        /// The footer's TZ string, between a newline and the next (RFC 8536 §3.3); empty is
        /// allowed. A version 2+ file without its footer is truncated, so nil.
        mutating func footer() -> String? {
            guard uint8() == UInt8(ascii: "\n") else { return nil }
            guard let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let text = bytes[offset..<end]
            guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            offset = end + 1
            return String(decoding: text, as: UTF8.self)
        }
    }
}
