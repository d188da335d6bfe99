import NIOCore
import Testing

@testable import WebSocketCore

// MARK: - Helpers shared by the PerMessageDeflate*Tests files

/// A deterministic generator (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}

/// JSON-RPC-like text of exactly `count` bytes, with the repetition real messages have.
func jsonLikeBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    let titles = ["Fix login", "Write docs", "Review PR", "Deploy", "Plan sprint"]
    let people = ["alice", "bob", "carol"]
    var text = #"{"jsonrpc":"2.0","method":"tasks.changed","params":{"items":["#
    var index = 0
    while text.utf8.count < count {
        let id = generator.next() % 100_000
        let title = titles[Int(generator.next() % 5)]
        let person = people[Int(generator.next() % 3)]
        text += #"{"id":"task_\#(id)","title":"\#(title) \#(index)","done":\#(generator.next() % 2 == 0),"#
        text += #""assignee":"\#(person)","updatedAt":"2025-01-0\#(generator.next() % 9 + 1)T12:00:00Z"},"#
        index += 1
    }
    return Array(text.utf8.prefix(count))
}

extension ByteBuffer {
    var bytes: [UInt8] { self.getBytes(at: self.readerIndex, length: self.readableBytes) ?? [] }
}

/// Inflates one message given as the payloads of its frames.
func inflateMessage(
    _ frames: [[UInt8]],
    with transform: PerMessageDeflate,
    limit: Int = 1 << 30
) throws(PerMessageDeflateError) -> [UInt8] {
    var output = ByteBuffer()
    for (index, frame) in frames.enumerated() {
        try transform.inflate(ByteBuffer(bytes: frame), isFinal: index == frames.count - 1, into: &output, limit: limit)
    }
    return output.bytes
}

/// The ways one message's compressed payload is cut into frames.
enum Feeding: CaseIterable, Sendable {
    case whole
    case byteByByte
    case byteByByteThenEmptyFinal
    case randomChunks

    func frames(_ payload: [UInt8], seed: UInt64 = 1) -> [[UInt8]] {
        switch self {
        case .whole:
            return [payload]
        case .byteByByte:
            return payload.isEmpty ? [[]] : payload.map { [$0] }
        case .byteByByteThenEmptyFinal:
            return payload.map { [$0] } + [[]]
        case .randomChunks:
            var generator = SeededGenerator(seed: seed)
            var frames: [[UInt8]] = []
            var rest = payload[...]
            repeat {
                let size = Int(generator.next() % 5000)
                frames.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            } while !rest.isEmpty
            return frames
        }
    }
}

let hello = Array("Hello".utf8)

func nextPowerOfTwo(_ value: Int) -> Int {
    var power = 1
    while power < value { power <<= 1 }
    return power
}

/// Parameters as a test peer sees them: everything negotiated explicitly.
func parameters(noContextTakeover: Bool, windowBits: Int = 15) -> PerMessageDeflateParameters {
    PerMessageDeflateParameters(
        serverNoContextTakeover: noContextTakeover,
        clientNoContextTakeover: noContextTakeover,
        serverMaxWindowBits: windowBits,
        clientMaxWindowBits: windowBits
    )
}

/// A configuration that does not cap windows, so tests control them through the parameters.
let uncapped = PerMessageDeflateConfiguration(deflateWindowBits: 15, clientMaxWindowBits: 15)

// MARK: - RFC 7692 §7.2.3 vectors

struct RFCVector: Sendable, CustomTestStringConvertible {
    let name: String
    /// The frames of one message, as printed in the RFC.
    let frames: [[UInt8]]
    var testDescription: String { self.name }
    var payload: [UInt8] { self.frames.flatMap { $0 } }
}

@Suite("permessage-deflate RFC 7692 §7.2.3 examples")
struct PerMessageDeflateVectorTests {
    static let vectors: [RFCVector] = [
        RFCVector(name: "§7.2.3.1 a message compressed", frames: [[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]]),
        RFCVector(name: "§7.2.3.1 the same in two fragments", frames: [[0xF2, 0x48, 0xCD], [0xC9, 0xC9, 0x07, 0x00]]),
        RFCVector(
            name: "§7.2.3.3 a DEFLATE block with no compression",
            frames: [[0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]]
        ),
        RFCVector(name: "§7.2.3.4 a DEFLATE block with BFINAL set", frames: [[0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]]),
        RFCVector(
            name: "§7.2.3.5 two DEFLATE blocks in one message",
            frames: [[0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00]]
        ),
    ]

    @Test(arguments: vectors, [false, true])
    func inflatesAsPrinted(vector: RFCVector, noContextTakeover: Bool) throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: noContextTakeover), configuration: .default)
        #expect(try inflateMessage(vector.frames, with: transform) == hello)
        // The stream is left ready for the next message.
        #expect(try inflateMessage(vector.frames, with: transform) == hello)
    }

    @Test(arguments: vectors, Feeding.allCases)
    func inflatesWhateverTheFraming(vector: RFCVector, feeding: Feeding) throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        #expect(try inflateMessage(feeding.frames(vector.payload), with: transform) == hello)
    }

    @Test(arguments: vectors)
    func inflatesSplitAtEveryPoint(vector: RFCVector) throws {
        let payload = vector.payload
        for split in 0...payload.count {
            let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
            let frames = [Array(payload[..<split]), Array(payload[split...])]
            #expect(try inflateMessage(frames, with: transform) == hello, "split at \(split)")
        }
    }

    /// §7.2.3.2: the second "Hello" refers back to the first through the shared window.
    @Test(arguments: Feeding.allCases)
    func inflatesWithTheSharedSlidingWindow(feeding: Feeding) throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        #expect(try inflateMessage(feeding.frames([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), with: transform) == hello)
        #expect(try inflateMessage(feeding.frames([0xF2, 0x00, 0x11, 0x00, 0x00]), with: transform) == hello)
    }

    /// A final block ends the DEFLATE stream, not the LZ77 window of the connection.
    @Test func keepsTheWindowAcrossAFinalBlock() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        #expect(try inflateMessage([[0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]], with: transform) == hello)
        #expect(try inflateMessage([[0xF2, 0x00, 0x11, 0x00, 0x00]], with: transform) == hello)
    }

    /// A message may go on with new blocks after a final one, still referring to its start.
    @Test func inflatesBlocksAfterAFinalBlockInOneMessage() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        // "Hello" with BFINAL, then the §7.2.3.2 "Hello" that refers back 5 bytes.
        let payload: [UInt8] = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0xF2, 0x00, 0x11, 0x00, 0x00]
        #expect(try inflateMessage([payload], with: transform) == hello + hello)
    }

    /// A final block that ends the message needs neither the 0x00 of §7.2.3.4 nor the tail.
    @Test func acceptsAFinalBlockEndingTheMessage() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        #expect(try inflateMessage([[0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]], with: transform) == hello)
        #expect(try inflateMessage([[0xF2, 0x00, 0x11, 0x00, 0x00]], with: transform) == hello)
    }

    /// With client_no_context_takeover the window is reset, so a back-reference is corrupt.
    @Test func forgetsTheWindowWithoutContextTakeover() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        #expect(try inflateMessage([[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]], with: transform) == hello)
        #expect(throws: PerMessageDeflateError.invalidData) {
            try inflateMessage([[0xF2, 0x00, 0x11, 0x00, 0x00]], with: transform)
        }
    }

    @Test func deflatesHelloAsPrinted() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        for _ in 0..<2 {
            let payload = try transform.deflate(ByteBuffer(bytes: hello), allocator: ByteBufferAllocator())
            #expect(payload.bytes == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        }
    }

    @Test func deflatesTheSecondHelloThroughTheSharedWindow() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        let first = try transform.deflate(ByteBuffer(bytes: hello), allocator: ByteBufferAllocator())
        let second = try transform.deflate(ByteBuffer(bytes: hello), allocator: ByteBufferAllocator())
        #expect(first.bytes == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(second.bytes == [0xF2, 0x00, 0x11, 0x00, 0x00])
    }

    /// §7.2.3.6: an empty message is the single octet 0x00; a payload of no octets is accepted too.
    @Test(arguments: [false, true])
    func handlesEmptyMessages(noContextTakeover: Bool) throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: noContextTakeover), configuration: .default)
        for _ in 0..<3 {
            let payload = try transform.deflate(ByteBuffer(), allocator: ByteBufferAllocator())
            #expect(payload.bytes == [0x00])
            #expect(try inflateMessage([payload.bytes], with: transform) == [])
            #expect(try inflateMessage([[]], with: transform) == [])
            #expect(try inflateMessage([[], [], []], with: transform) == [])
        }
        #expect(try inflateMessage([[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]], with: transform) == hello)
    }
}

// MARK: - Round trips

@Suite("permessage-deflate round trips")
struct PerMessageDeflateRoundTripTests {
    static let sizes = [0, 1, 16, 127, 128, 1000, 4096, 65_536, 1 << 20]
    static let messages: [[UInt8]] = sizes.enumerated().flatMap { index, size in
        [randomBytes(size, seed: UInt64(index)), jsonLikeBytes(size, seed: UInt64(index))]
    }

    /// Server and client ends: what one deflates with `serverMaxWindowBits` the other inflates
    /// with the same value as its `clientMaxWindowBits`.
    static func pair(windowBits: Int, noContextTakeover: Bool) -> (sender: PerMessageDeflate, receiver: PerMessageDeflate) {
        let sender = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(
                serverNoContextTakeover: noContextTakeover,
                serverMaxWindowBits: windowBits
            ),
            configuration: uncapped
        )
        let receiver = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(
                clientNoContextTakeover: noContextTakeover,
                clientMaxWindowBits: windowBits
            ),
            configuration: uncapped
        )
        return (sender, receiver)
    }

    /// Window 8 also checks that deflating with 9 bits (zlib's minimum) stays within reach of
    /// an 8-bit inflater.
    @Test(arguments: 8...15, [false, true])
    func roundTrips(windowBits: Int, noContextTakeover: Bool) throws {
        let (sender, receiver) = Self.pair(windowBits: windowBits, noContextTakeover: noContextTakeover)
        #expect(sender.deflateWindowBits == max(windowBits, 9))
        #expect(receiver.inflateWindowBits == windowBits)
        for (index, message) in Self.messages.enumerated() {
            let payload = try sender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
            let feeding: Feeding = index % 2 == 0 ? .whole : .randomChunks
            let inflated = try inflateMessage(feeding.frames(payload.bytes, seed: UInt64(index)), with: receiver)
            #expect(inflated == message, "message \(index) of \(message.count) bytes")
        }
    }

    @Test func compressesJSONWell() throws {
        let (sender, _) = Self.pair(windowBits: 15, noContextTakeover: true)
        let message = jsonLikeBytes(4096, seed: 7)
        let payload = try sender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
        #expect(payload.readableBytes < message.count / 3)
    }

    @Test func contextTakeoverShrinksRepeatedMessages() throws {
        let message = ByteBuffer(bytes: jsonLikeBytes(2000, seed: 3))
        let (withTakeover, _) = Self.pair(windowBits: 15, noContextTakeover: false)
        let (withoutTakeover, _) = Self.pair(windowBits: 15, noContextTakeover: true)
        let first = try withTakeover.deflate(message, allocator: ByteBufferAllocator())
        let second = try withTakeover.deflate(message, allocator: ByteBufferAllocator())
        #expect(second.readableBytes < 40)
        #expect(second.readableBytes < first.readableBytes)
        let reset1 = try withoutTakeover.deflate(message, allocator: ByteBufferAllocator())
        let reset2 = try withoutTakeover.deflate(message, allocator: ByteBufferAllocator())
        #expect(reset1 == reset2)
        #expect(reset1 == first)
    }

    /// A client asking for a small server window gets it even when our cap is larger, and
    /// our cap applies when the client allows more.
    @Test(arguments: [(8, 12, 9), (10, 12, 10), (15, 12, 12), (15, 15, 15), (13, 8, 9)])
    func deflatesWithTheSmallerWindow(agreed: Int, cap: Int, expected: Int) {
        let transform = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(serverMaxWindowBits: agreed),
            configuration: PerMessageDeflateConfiguration(deflateWindowBits: cap)
        )
        #expect(transform.deflateWindowBits == expected)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let configuration = PerMessageDeflateConfiguration.default
        #expect(configuration.requestServerNoContextTakeover)
        #expect(configuration.requestClientNoContextTakeover)
        #expect(configuration.compressionLevel == 6)
        #expect(configuration.memLevel == 4)
        #expect(configuration.deflateWindowBits == 12)
        #expect(configuration.clientMaxWindowBits == 12)
        #expect(configuration.minimumMessageSize == 128)
        #expect(PerMessageDeflateParameters() == parameters(noContextTakeover: false, windowBits: 15))
    }

    @Test func shouldCompressFollowsTheMinimumSize() {
        let transform = PerMessageDeflate(parameters: PerMessageDeflateParameters(), configuration: .default)
        #expect(!transform.shouldCompress(messageSize: 0))
        #expect(!transform.shouldCompress(messageSize: 127))
        #expect(transform.shouldCompress(messageSize: 128))
        let everything = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(),
            configuration: PerMessageDeflateConfiguration(minimumMessageSize: 0)
        )
        #expect(everything.shouldCompress(messageSize: 0))
    }

    @Test(arguments: [-5, 0, 1, 9, 42])
    func clampsOutOfRangeLevels(level: Int) throws {
        let transform = PerMessageDeflate(
            parameters: PerMessageDeflateParameters(),
            configuration: PerMessageDeflateConfiguration(compressionLevel: level, memLevel: level)
        )
        let message = jsonLikeBytes(3000, seed: 9)
        let payload = try transform.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
        #expect(try inflateMessage([payload.bytes], with: transform) == message)
    }
}

// MARK: - Hostile input

@Suite("permessage-deflate limits and corrupt input")
struct PerMessageDeflateLimitTests {
    /// Compressed zeros: `first` fills the window with zeros, and `next`, given such a window,
    /// inflates to another MiB of zeros. Both end with the sync-flush tail, so they can be
    /// concatenated. DEFLATE's ratio tops out near 1032:1, so 1 MiB of zeros takes about 1 KiB.
    static let zeroMiB: (first: [UInt8], next: [UInt8]) = {
        let sender = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: uncapped)
        let zeros = ByteBuffer(repeating: 0, count: 1 << 20)
        let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]
        let first = try! sender.deflate(zeros, allocator: ByteBufferAllocator()).bytes + tail
        let next = try! sender.deflate(zeros, allocator: ByteBufferAllocator()).bytes + tail
        return (first, next)
    }()

    /// ~100 KiB of compressed input that would inflate to 100 MiB.
    static var bomb100MiB: [UInt8] { zeroMiB.first + Array(repeating: zeroMiB.next, count: 99).flatMap { $0 } }

    @Test func theBombIsSmallAndReallyExplodes() throws {
        #expect(Self.zeroMiB.first.count < 1200)
        #expect(Self.zeroMiB.next.count < 1200)
        #expect(Self.bomb100MiB.count < 120 * 1024)
        // Without a limit the first two MiB do inflate: the bomb is real.
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: uncapped)
        // The last frame goes without the tail, which inflate appends itself.
        let inflated = try inflateMessage([Self.zeroMiB.first, Array(Self.zeroMiB.next.dropLast(4))], with: receiver)
        #expect(inflated.count == 2 << 20 && inflated.allSatisfy { $0 == 0 })
    }

    @Test(arguments: [1 << 20, 1_000_000, 4096])
    func stopsADeflateBombInOneFrame(limit: Int) {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        var output = ByteBuffer()
        #expect(throws: PerMessageDeflateError.messageTooBig) {
            try receiver.inflate(ByteBuffer(bytes: Self.bomb100MiB), isFinal: true, into: &output, limit: limit)
        }
        #expect(output.readableBytes <= limit)
        // The buffer grows by doubling, so at most to the next power of two above the limit.
        #expect(output.capacity <= nextPowerOfTwo(limit) + 64 * 1024)
    }

    @Test func stopsADeflateBombAcrossFrames() {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        let limit = 1 << 20
        var output = ByteBuffer()
        var framesInflated = 0
        #expect(throws: PerMessageDeflateError.messageTooBig) {
            try receiver.inflate(ByteBuffer(bytes: Self.zeroMiB.first), isFinal: false, into: &output, limit: limit)
            for _ in 0..<1024 {  // 1 GiB in all
                try receiver.inflate(ByteBuffer(bytes: Self.zeroMiB.next), isFinal: false, into: &output, limit: limit)
                framesInflated += 1
            }
        }
        #expect(framesInflated == 0)
        #expect(output.readableBytes == limit)
        #expect(output.capacity <= limit + 64 * 1024)
    }

    /// Exactly `limit` bytes is fine; one more is too big, whatever the framing.
    @Test(arguments: [Feeding.whole, .byteByByte, .randomChunks])
    func limitIsInclusive(feeding: Feeding) throws {
        let message = jsonLikeBytes(20_000, seed: 5)
        let sender = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        let frames = feeding.frames(try sender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator()).bytes)
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        #expect(try inflateMessage(frames, with: receiver, limit: message.count) == message)
        #expect(throws: PerMessageDeflateError.messageTooBig) {
            try inflateMessage(frames, with: receiver, limit: message.count - 1)
        }
        // After the error the transform starts afresh and works again.
        #expect(try inflateMessage(frames, with: receiver, limit: message.count) == message)
    }

    /// The limit counts everything already in the output, earlier frames included.
    @Test func limitCountsBytesAlreadyInTheOutput() {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        var output = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: PerMessageDeflateError.messageTooBig) {
            try receiver.inflate(ByteBuffer(bytes: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), isFinal: true, into: &output, limit: 7)
        }
        var exact = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: Never.self) {
            try receiver.inflate(ByteBuffer(bytes: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), isFinal: true, into: &exact, limit: 8)
        }
        #expect(exact.bytes == [1, 2, 3] + hello)
    }

    static let corrupt: [[UInt8]] = [
        [0xFF, 0xFF, 0xFF, 0xFF],  // BTYPE 11 is reserved
        [0x07],  // BTYPE 11 again, in the first byte
        [0x00, 0x05, 0x00, 0xFB, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00],  // NLEN is not ~LEN
        [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65],  // stored block cut short
        [0xF2, 0x48, 0xCD, 0xC9, 0xC9],  // compressed block cut short
        [0xF2, 0x00, 0x11, 0x00, 0x00],  // refers to a window this message never filled
        [0x01, 0x00, 0x00, 0x00, 0x00],  // final stored block of length 0 whose NLEN is 0
    ]

    @Test(arguments: corrupt, [Feeding.whole, .byteByByte])
    func rejectsCorruptData(payload: [UInt8], feeding: Feeding) throws {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        #expect(throws: PerMessageDeflateError.invalidData) {
            try inflateMessage(feeding.frames(payload), with: receiver)
        }
        // A failed message leaves nothing behind that breaks the next one.
        #expect(try inflateMessage([[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]], with: receiver) == hello)
    }

    /// A sender that forgets to remove the tail sends a message that, with our tail appended,
    /// stops inside a stored block's header.
    @Test func rejectsAMessageThatKeptItsTail() {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        #expect(throws: PerMessageDeflateError.invalidData) {
            try inflateMessage([[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00, 0x00, 0xFF, 0xFF]], with: receiver)
        }
    }

    @Test func rejectsRandomGarbage() {
        var rejected = 0
        for seed in 0..<200 as Range<UInt64> {
            let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
            do {
                _ = try inflateMessage([randomBytes(Int(seed % 64) + 1, seed: seed)], with: receiver, limit: 1 << 16)
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 150)
    }

    /// A client that promised a small window but refers further back is corrupt.
    @Test func rejectsDistancesBeyondTheNegotiatedWindow() throws {
        let repeated = randomBytes(1000, seed: 11)
        let message = repeated + repeated
        let wideSender = PerMessageDeflate(parameters: parameters(noContextTakeover: true, windowBits: 15), configuration: uncapped)
        let payload = try wideSender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
        #expect(payload.readableBytes < 1100)
        let narrowReceiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true, windowBits: 9), configuration: uncapped)
        #expect(throws: PerMessageDeflateError.invalidData) {
            try inflateMessage([payload.bytes], with: narrowReceiver)
        }
        let wideReceiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true, windowBits: 15), configuration: uncapped)
        #expect(try inflateMessage([payload.bytes], with: wideReceiver) == message)
    }
}

// MARK: - Memory

@Suite("permessage-deflate memory")
struct PerMessageDeflateMemoryTests {
    @Test func allocatesLazilyAndReleasesWhenIdle() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        #expect(transform.zlibMemoryInUse == 0)
        let payload = try transform.deflate(ByteBuffer(bytes: jsonLikeBytes(500, seed: 1)), allocator: ByteBufferAllocator())
        let deflateOnly = transform.zlibMemoryInUse
        #expect(deflateOnly > 0)
        _ = try inflateMessage([payload.bytes], with: transform)
        #expect(transform.zlibMemoryInUse > deflateOnly)
        transform.releaseIdleMemory()
        #expect(transform.zlibMemoryInUse == 0)
        // Re-created on next use.
        let again = try transform.deflate(ByteBuffer(bytes: jsonLikeBytes(500, seed: 1)), allocator: ByteBufferAllocator())
        #expect(again == payload)
        #expect(try inflateMessage([again.bytes], with: transform) == jsonLikeBytes(500, seed: 1))
    }

    /// The costs documented on `PerMessageDeflateConfiguration`: zlib's formulas plus its state.
    @Test func defaultStreamsCostWhatIsDocumented() throws {
        let transform = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        let message = jsonLikeBytes(8000, seed: 2)
        let payload = try transform.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
        let deflateCost = transform.zlibMemoryInUse
        let deflateFormula = (1 << (12 + 2)) + (1 << (4 + 9))
        #expect(deflateCost >= deflateFormula && deflateCost <= deflateFormula + 8 * 1024, "deflate: \(deflateCost)")

        _ = try inflateMessage([payload.bytes], with: transform)
        let inflateCost = transform.zlibMemoryInUse - deflateCost
        #expect(inflateCost >= 1 << 15 && inflateCost <= (1 << 15) + 8 * 1024, "inflate, 15 bits: \(inflateCost)")

        let narrow = PerMessageDeflate(parameters: parameters(noContextTakeover: true, windowBits: 12), configuration: .default)
        _ = try inflateMessage([payload.bytes], with: narrow)
        #expect(narrow.zlibMemoryInUse >= 1 << 12 && narrow.zlibMemoryInUse <= (1 << 12) + 8 * 1024, "inflate, 12 bits: \(narrow.zlibMemoryInUse)")
    }

    @Test func keepsTheInflaterMidMessage() throws {
        let sender = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        let message = jsonLikeBytes(5000, seed: 4)
        let payload = try sender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator()).bytes
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: true), configuration: .default)
        var output = ByteBuffer()
        try receiver.inflate(ByteBuffer(bytes: payload.prefix(100)), isFinal: false, into: &output, limit: 1 << 20)
        receiver.releaseIdleMemory()
        #expect(receiver.zlibMemoryInUse > 0)
        try receiver.inflate(ByteBuffer(bytes: payload.dropFirst(100)), isFinal: true, into: &output, limit: 1 << 20)
        #expect(output.bytes == message)
        receiver.releaseIdleMemory()
        #expect(receiver.zlibMemoryInUse == 0)
    }

    /// With client context takeover the next message may refer to this one: keep the window.
    @Test func keepsTheInflaterWithClientContextTakeover() throws {
        let receiver = PerMessageDeflate(parameters: parameters(noContextTakeover: false), configuration: .default)
        #expect(try inflateMessage([[0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]], with: receiver) == hello)
        receiver.releaseIdleMemory()
        #expect(receiver.zlibMemoryInUse > 0)
        #expect(try inflateMessage([[0xF2, 0x00, 0x11, 0x00, 0x00]], with: receiver) == hello)
    }

    /// Our own context takeover may be dropped when idle: the next message simply has no history.
    @Test func releasesTheDeflaterEvenWithContextTakeover() throws {
        let (sender, receiver) = PerMessageDeflateRoundTripTests.pair(windowBits: 15, noContextTakeover: false)
        for round in 0..<4 {
            let message = jsonLikeBytes(3000, seed: 6)
            let payload = try sender.deflate(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
            #expect(try inflateMessage([payload.bytes], with: receiver) == message)
            if round % 2 == 1 { sender.releaseIdleMemory() }
        }
    }
}
