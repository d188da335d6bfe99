// The cost of Web Push's cryptography per message, part by part, so the end-to-end figure of
// scripts/e2e/bench_push.py (server CPU per push) can be read against it:
// `cd Benchmarks && swift run -c release faros-pushbench`.
//
// One push = one `WebPushEncryption.encrypt` (a fresh P-256 key pair, ECDH with the browser's
// key, HKDF, one AES-128-GCM record). The VAPID signature is made once per push service and
// reused for hours, so it is not per push; it is printed for reference.
import Glibc
import WebPush

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Best of five runs of `iterations`, after a warm-up of a tenth: µs per call.
func bench(_ name: String, iterations: Int, _ body: () throws -> Void) rethrows {
    for _ in 0..<(iterations / 10) { try body() }
    var best = Double.infinity
    for _ in 0..<5 {
        let start = now()
        for _ in 0..<iterations { try body() }
        best = min(best, (now() - start) / Double(iterations) * 1e6)
    }
    print("\(name): \((best * 10).rounded() / 10) µs (best of 5 × \(iterations))")
}

let browser = try P256PrivateKey.generate()
let auth = [UInt8](repeating: 3, count: 16)
let payload = Array(#"{"v":1,"kind":"commentAdded","taskId":42,"taskTitle":"Roadmap","actor":"ben","title":"ben commented on “Roadmap”","body":"Looks good","url":"https://tasks.example.com/tasks/42","tag":"faros-task-42"}"#.utf8)
let signer = try P256PrivateKey.generate()
let token = Array("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL2ZjbS5nb29nbGVhcGlzLmNvbSIsImV4cCI6MTc2MDAwMDAwMCwic3ViIjoibWFpbHRvOm9wc0BleGFtcGxlLmNvbSJ9".utf8)
let fixedKey = try P256PrivateKey.generate()
let peer = browser.publicKey

print("Web Push cryptography, one thread, \(payload.count)-byte payload")
try bench("encrypt one push (keygen + ECDH + HKDF + AES-GCM)", iterations: 2000) {
    _ = try WebPushEncryption.encrypt(plaintext: payload, userAgentPublicKey: peer, authSecret: auth)
}
try bench("  P-256 key generation", iterations: 2000) { _ = try P256PrivateKey.generate() }
try bench("  ECDH, the browser's key read and checked", iterations: 2000) { _ = try fixedKey.sharedSecret(peerPublicKey: peer) }
try bench("  reading and checking the browser's key alone", iterations: 2000) { _ = P256.isValidPublicKey(peer) }
try bench("  HKDF (extract + expands, as one push does)", iterations: 20000) {
    let ikm = HKDF.deriveKey(inputKeyMaterial: auth + auth, salt: auth, info: peer, length: 32)
    let prk = HKDF.extract(salt: auth, inputKeyMaterial: ikm)
    _ = HKDF.expand(pseudorandomKey: prk, info: auth, length: 16)
    _ = HKDF.expand(pseudorandomKey: prk, info: auth, length: 12)
}
try bench("  AES-128-GCM seal of the payload", iterations: 20000) {
    _ = try AES128GCM.seal(key: auth, nonce: Array(auth.prefix(12)), plaintext: payload)
}
try bench("ES256 sign (a VAPID token: once per push service per 11 h)", iterations: 2000) { _ = try signer.signES256(token) }
