import Foundation
import Handlers
import JSON
import JSONRPC
import Logging
import NIOCore
import ProtocolDocument
import RESTBridge
import Synchronization
import SystemTime
import Testing

/// Attacks on the upload routes, through the edge's pipeline and the responder: part headers
/// that never end, uploads past the rate limit, bodies trickled forever.
@Suite(.timeLimit(.minutes(1)))
struct RESTUploadLimitsTests {
    /// A 1×1 PNG, as the content sniffer takes it.
    static let png: [UInt8] = Array(hex: "89504e470d0a1a0a0000000d4948445200000001000000010806000000") + [0x1F, 0x15, 0xC4, 0x89] + [UInt8](repeating: 0, count: 64)

    static func head(_ path: String, token: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: multipart/form-data; boundary=XX\r\nTransfer-Encoding: chunked\r\n\r\n"
    }

    static func chunk(_ bytes: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer(string: String(bytes.count, radix: 16) + "\r\n")
        buffer.writeBytes(bytes)
        buffer.writeString("\r\n")
        return buffer
    }

    /// Waits until the blob store's directory holds exactly `expected` (removals run on the
    /// thread pool after the answer).
    static func expectBlobs(_ connection: TestConnection, count expected: Int, by deadline: ContinuousClock.Instant) async throws {
        while connection.blobs.count != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(connection.blobs.count == expected, "\(connection.blobs)")
    }

    @Test(arguments: ["avatar", "task file"])
    func anEndlessPartHeaderLineIsRefusedAtTheCap(route: String) async throws {
        try await RESTResponderTests.withConnection { connection in
            let user = try await connection.signUp("header")
            let path = route == "avatar" ? "/users/me/avatar" : "/tasks/\(try await user.createTask())/files"
            try await connection.send(Self.head(path, token: user.token))
            try await connection.channel.writeInbound(Self.chunk(Array("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".utf8)))
            // 4 MiB of one filename without a CR, in 1 KiB reads (the server stops reading at
            // its refusal and closes; later writes find the connection gone).
            let read = [UInt8](repeating: UInt8(ascii: "A"), count: 1024)
            for _ in 0..<4096 {
                guard await connection.isActive else { break }
                try? await connection.channel.writeInbound(Self.chunk(read))
            }
            let answer = try await connection.response(by: .now + .seconds(10))
            #expect(answer?.status == 400)
            #expect(answer?.header("connection") == "close")
            #expect(answer?.text == #"{"error":{"code":-32602,"message":"Invalid params","data":{"errors":[{"field":"file","message":"a part's headers are longer than 8192 bytes"}]}}}"#)
            try await Self.expectBlobs(connection, count: 0, by: .now + .seconds(10))
        }
    }

    @Test func avatarsCountAgainstTheUploadRateLimit() async throws {
        let limiter = RefusingUploads()
        try await RESTResponderTests.withConnection(rateLimiter: limiter) { connection in
            let user = try await connection.signUp("avatar")
            try await connection.send(Self.head("/users/me/avatar", token: user.token))
            let part = Array("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"me.png\"\r\n\r\n".utf8) + Self.png
                + Array("\r\n--XX--\r\n".utf8)
            try await connection.channel.writeInbound(Self.chunk(part))
            try await connection.send("0\r\n\r\n")
            let answer = try await connection.response(by: .now + .seconds(10))
            #expect(answer?.status == 429)
            #expect(answer?.header("retry-after") == "60")
            #expect(limiter.asked == ["files.upload.user user:\(user.id)"])
            try await Self.expectBlobs(connection, count: 0, by: .now + .seconds(10))
        }
    }
}

extension RESTUploadLimitsTests {
    /// A task upload whose body comes one byte a second, each well within the idle timeout, is
    /// refused 408 at its deadline or under its minimum rate (set down to a few seconds here, on
    /// the testing loop's clock, which the test moves): the partial blob goes, no row is written,
    /// the connection closes.
    @Test(arguments: ["deadline", "rate"])
    func aTrickledUploadIsRefusedAndLeavesNothing(limit: String) async throws {
        try await RESTResponderTests.withConnection(configure: { configuration in
            if limit == "deadline" {
                configuration.uploadTimeout = .seconds(1)
                configuration.uploadMinBytesPerSecond = 0
            } else {
                configuration.bodyIdleTimeout = .seconds(3)  // the rate's grace period
                configuration.uploadMinBytesPerSecond = 100
            }
        }) { connection in
            let user = try await connection.signUp("slow")
            let taskID = try await user.createTask()
            try await connection.send(Self.head("/tasks/\(taskID)/files", token: user.token))
            try await connection.channel.writeInbound(Self.chunk(
                Array("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n\r\n".utf8)))
            var answer: TestConnection.Response?
            for _ in 0..<120 {
                guard answer == nil, await connection.isActive else { break }
                try? await connection.channel.writeInbound(Self.chunk([UInt8(ascii: "a")]))
                await connection.channel.testingEventLoop.advanceTime(by: .seconds(1))  // the watchdog's tick
                answer = try await connection.response(by: .now + .milliseconds(20))
            }
            #expect(answer?.status == 408)
            #expect(answer?.header("connection") == "close")
            let message = limit == "deadline" ? "Upload took too long" : "Upload too slow"
            #expect(answer?.text == #"{"error":{"code":-32008,"message":"\#(message)"}}"#)
            try await Self.expectBlobs(connection, count: 0, by: .now + .seconds(10))
            #expect(try await connection.domain.files(taskID: taskID, userID: user.id).isEmpty)
        }
    }
}

extension RESTUploadLimitsTests {
    @Test func thePaceDefaultsAreTheDocumentedOnes() throws {
        let limits = try #require(try JSONParser().parse(ProtocolDocument.openRPC)["x-limits"])
        let configuration = RESTConfiguration()
        #expect(limits["uploadTimeoutSeconds"]?["default"]?.numberValue?.int == Int(configuration.uploadTimeout.components.seconds))
        #expect(limits["uploadMinBytesPerSecond"]?["default"]?.numberValue?.int == configuration.uploadMinBytesPerSecond)
    }
}

/// Real rate limits, except that the upload rule refuses every upload and records who asked.
final class RefusingUploads: RateLimiter {
    private let inner = InProcessRateLimiter()
    private let log = Mutex<[String]>([])

    var asked: [String] { log.withLock { $0 } }

    func retryAfter(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        await inner.retryAfter(rule, key: key, now: now)
    }

    func record(_ rule: RateRule, key: String, now: Timestamp) async -> Int64? {
        guard rule.name == "files.upload.user" else { return await inner.record(rule, key: key, now: now) }
        log.withLock { $0.append("\(rule.name) \(key)") }
        return 60_000
    }

    func refund(_ rule: RateRule, key: String, recordedAt: Timestamp) async {
        await inner.refund(rule, key: key, recordedAt: recordedAt)
    }

    func reset(_ rule: RateRule, key: String) async {
        await inner.reset(rule, key: key)
    }
}

/// A user signed up through the domain's `auth.register`, with its session for more calls.
struct TestUser: Sendable {
    let token: String
    let id: Int64
    let session: ClientSession
    let engine: RPCEngine<ClientSession>

    /// Calls `method` on the user's session; its result.
    func call(_ method: String, _ params: String) async throws -> JSONValue {
        let request = #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#
        let answer = try #require(await engine.handle(Array(request.utf8), context: session))
        let value = try JSONParser().parse(answer)
        return try #require(value["result"], "\(method): \(String(decoding: answer, as: UTF8.self))")
    }

    /// A new task of the user's; its id.
    func createTask() async throws -> Int64 {
        let task = try await call("tasks.create", #"{"title":"upload here"}"#)
        return Int64(try #require(task["id"]?.numberValue?.int))
    }
}

extension TestConnection {
    func signUp(_ name: String) async throws -> TestUser {
        let engine = RPCEngine(registry: domain.registry())
        let session = ClientSession(
            connectionID: 1000, clientAddress: "192.0.2.9",
            logger: Logger(label: "faros.rest.tests", factory: { _ in SwiftLogNoOpLogHandler() }), send: { _, _ in }
        )
        let user = TestUser(token: "", id: 0, session: session, engine: engine)
        let result = try await user.call(
            "auth.register", #"{"username":"\#(name)","email":"\#(name)@example.com","password":"correct horse battery"}"#)
        return TestUser(
            token: try #require(result["token"]?["accessToken"]?.stringValue),
            id: Int64(try #require(result["user"]?["id"]?.numberValue?.int)), session: session, engine: engine
        )
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}
