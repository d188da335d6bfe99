#if canImport(Glibc)
import Glibc
#endif

/// Every decoder fuzzed, by the name FAROS_FUZZ_TARGET gives it (also the corpus folder's name
/// under Fuzz/Corpus/). Each takes one input and must neither crash, hang, leak nor allocate
/// without bound, whatever the bytes.
let targets: [String: @Sendable (FuzzInput) -> Void] = [
    "websocket": WebSocketTargets.connection,
    "handshake": WebSocketTargets.handshake,
    "json": JSONTargets.json,
    "jsonrpc": JSONTargets.jsonRPC,
    "multipart": RESTTargets.multipart,
    "range": RESTTargets.range,
    "content-disposition": RESTTargets.contentDisposition,
    "bearer": CredentialTargets.bearer,
    "jwt": CredentialTargets.jwt,
    "tzif": ZoneTargets.tzif,
    "tzrule": ZoneTargets.posixRule,
    "database-url": URLTargets.database,
    "redis-url": URLTargets.redis,
    "smtp-url": URLTargets.smtp,
]

/// The target this process runs, chosen once.
let selected: @Sendable (FuzzInput) -> Void = {
    let name = getenv("FAROS_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = targets[name] else {
        let known = targets.keys.sorted().joined(separator: " ")
        print("faros-fuzz: set FAROS_FUZZ_TARGET to one of: \(known)")
        exit(2)
    }
    return target
}()

/// libFuzzer's entry: the selected target gets every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selected(FuzzInput(bytes))
    return 0
}

/// Lists the targets for scripts/fuzz (`faros-fuzz -help=1` is libFuzzer's own).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    if getenv("FAROS_FUZZ_LIST") != nil {
        print(targets.keys.sorted().joined(separator: "\n"))
        exit(0)
    }
    _ = selected
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The process entry. SwiftPM links an executable with `main` aliased to `<module>_main`, which
/// `-parse-as-library` leaves undefined; this defines it as libFuzzer's own driver.
@_cdecl("faros_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzOneInput)
}
