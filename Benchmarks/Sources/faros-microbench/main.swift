import ByteCoding
import WebSocketCore

// Throughput of the WebSocket hot paths against naive byte-at-a-time references, for small,
// medium and large payloads. Each figure is the best of several runs (least disturbed by the
// other tenants of the machine), measured with ContinuousClock.

/// Byte-at-a-time unmasking, the reference the word-at-a-time code is measured against.
@inline(never)
func referenceUnmask(_ bytes: UnsafeMutableRawBufferPointer, key: (UInt8, UInt8, UInt8, UInt8), keyOffset: Int) {
    let keyBytes = [key.0, key.1, key.2, key.3]
    for index in 0..<bytes.count {
        bytes[index] ^= keyBytes[(index &+ keyOffset) & 3]
    }
}

/// A simple byte-at-a-time RFC 3629 validator, the reference for UTF8Validator.
@inline(never)
func referenceValidate(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        var length = 1
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: length = 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard index + length <= count else { return false }
        var offset = 1
        while offset < length {
            let byte = bytes[index + offset]
            if offset == 1 {
                guard byte >= low, byte <= high else { return false }
            } else {
                guard byte & 0xC0 == 0x80 else { return false }
            }
            offset += 1
        }
        index += length
    }
    return true
}

// Keeps results alive so the optimizer cannot drop the measured work. The benchmark is
// single-threaded, so nothing else touches it: that makes nonisolated(unsafe) safe here.
nonisolated(unsafe) var sink: UInt64 = 0

@inline(never)
func consume(_ value: UInt64) {
    sink &+= value
}

/// Best throughput in GB/s of `body` over `size` bytes, repeated to run about 50 ms per round.
func measure(size: Int, rounds: Int = 11, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    // Calibrate the repetitions so that one round moves about 256 MiB or takes about 50 ms.
    var repetitions = max(1, (256 << 20) / max(size, 1))
    let probe = clock.measure {
        for _ in 0..<min(repetitions, 1000) { body() }
    }
    let perCall = probe / min(repetitions, 1000)
    if perCall > .zero {
        let target = Duration.milliseconds(50)
        repetitions = max(1, Int(target / perCall))
    }
    var best = Duration.seconds(1_000_000)
    for _ in 0..<rounds {
        let elapsed = clock.measure {
            for _ in 0..<repetitions { body() }
        }
        best = min(best, elapsed)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    return Double(size) * Double(repetitions) / seconds / 1e9
}

func mixedText(count: Int) -> [UInt8] {
    // Words of English, Greek, Russian, Chinese, Japanese and an emoji in pseudo-random order, so
    // that the branch predictor cannot learn the sequence: about half the bytes belong to
    // multibyte scalars of 2, 3 and 4 bytes.
    let words = [
        "Hello", "κόσμε", "привет", "мир", "世界", "你好", "data", "☃", "😀", "the", "quick", "Ελληνικά", "日本語",
        "fox", "ok", "task", "comment", "update", "brown", "jumps",
    ]
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 32)
    while bytes.count <= count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes += Array(words[Int(state >> 33) % words.count].utf8)
        bytes.append(UInt8(ascii: " "))
    }
    // Cut on a scalar boundary so that the text stays valid.
    var end = count
    while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
    return Array(bytes[..<end])
}

let sizes = [64, 16 << 10, 1 << 20]
func label(_ size: Int) -> String {
    size >= 1 << 20 ? "\(size >> 20) MiB" : size >= 1 << 10 ? "\(size >> 10) KiB" : "\(size) B"
}
func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return String(scaled)
}

print("faros-microbench: throughput in GB/s (best of 11 rounds)")
print("")
print("size      unmask word  unmask byte  speed-up")
for size in sizes {
    var payload = [UInt8](repeating: 0x5A, count: size)
    let key: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)
    let maskKey = [key.0, key.1, key.2, key.3].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    let word = payload.withUnsafeMutableBytes { bytes in
        measure(size: size) {
            WebSocketMasking.unmask(bytes, maskKey: maskKey, keyOffset: 1)
            consume(UInt64(bytes[0]))
        }
    }
    let scalar = payload.withUnsafeMutableBytes { bytes in
        measure(size: size) {
            referenceUnmask(bytes, key: key, keyOffset: 1)
            consume(UInt64(bytes[0]))
        }
    }
    print("\(label(size).padding(9))\(format(word).padding(13))\(format(scalar).padding(13))\(format(word / scalar))x")
}

let ascii = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20).enumerated().map { UInt8(32 + $0.offset % 95) }
let mixedAll = mixedText(count: (1 << 20) + 64)
for (name, source) in [("ASCII", ascii), ("mixed", mixedAll)] {
    print("")
    let multibyte = source.prefix(1 << 20).filter { $0 >= 0x80 }.count
    print("UTF-8 \(name) (\(multibyte * 100 / min(source.count, 1 << 20))% of bytes in multibyte scalars)")
    print("size      validator    byte-at-a-time  speed-up")
    for size in sizes {
        var text = Array(source.prefix(size))
        while let last = text.last, last >= 0x80 { text.removeLast() }  // end on a boundary
        let validated = text.withUnsafeBytes { bytes in
            measure(size: bytes.count) {
                var validator = UTF8Validator()
                let ok = validator.validate(bytes) && validator.isComplete
                consume(ok ? 1 : 0)
            }
        }
        let reference = text.withUnsafeBytes { bytes in
            measure(size: bytes.count) {
                consume(referenceValidate(bytes) ? 1 : 0)
            }
        }
        precondition(text.withUnsafeBytes { referenceValidate($0) })
        print("\(label(size).padding(9))\(format(validated).padding(13))\(format(reference).padding(16))\(format(validated / reference))x")
    }
}
print("")
print("(checksum \(sink))")

extension String {
    func padding(_ width: Int) -> String {
        self.count >= width ? self + " " : self + String(repeating: " ", count: width - self.count)
    }
}



