import PubSub
import Testing

@Suite("RedisConnection", .enabled(if: TestRedis.enabled))
struct RedisConnectionTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func pingAndReplyKinds() throws {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        let key = TestRedis.uniqueName("kinds")
        #expect(try connection.command([bytes("PING")]) == .status("PONG"))
        #expect(try connection.command([bytes("GET"), bytes(key)]) == .null)
        #expect(try connection.command([bytes("INCRBY"), bytes(key), bytes("41")]) == .integer(41))
        #expect(try connection.command([bytes("INCR"), bytes(key)]) == .integer(42))
        #expect(try connection.command([bytes("GET"), bytes(key)]) == .bulk(bytes("42")))
        #expect(try connection.command([bytes("DEL"), bytes(key)]) == .integer(1))
        #expect(try connection.command([bytes("RPUSH"), bytes(key), bytes("a"), bytes(""), bytes("c")]) == .integer(3))
        #expect(try connection.command([bytes("LRANGE"), bytes(key), bytes("0"), bytes("-1")]) == .array([.bulk(bytes("a")), .bulk([]), .bulk(bytes("c"))]))
        _ = try connection.command([bytes("DEL"), bytes(key)])
        // An error reply is a value, and the connection stays usable.
        guard case .error(let message) = try connection.command([bytes("NOSUCHCOMMAND")]) else {
            Issue.record("expected an error reply")
            return
        }
        #expect(message.hasPrefix("ERR"))
        #expect(!connection.isBroken)
        #expect(try connection.command([bytes("PING")]) == .status("PONG"))
    }

    @Test func binarySafeKeysAndValues() throws {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        let key = bytes(TestRedis.uniqueName("bin")) + [0, 255, 0]
        let value: [UInt8] = [0, 1, 2, 0, 13, 10, 36, 42, 0, 255]
        #expect(try connection.command([bytes("SET"), key, value]) == .status("OK"))
        #expect(try connection.command([bytes("GET"), key]) == .bulk(value))
        // The key without its NUL tail is another key.
        #expect(try connection.command([bytes("EXISTS"), Array(key.dropLast(3))]) == .integer(0))
        _ = try connection.command([bytes("DEL"), key])
    }

    @Test func oneMebibyte() throws {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        let key = bytes(TestRedis.uniqueName("big"))
        var value = [UInt8](repeating: 0, count: 1 << 20)
        for index in value.indices { value[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }
        #expect(try connection.command([bytes("SET"), key, value]) == .status("OK"))
        #expect(try connection.command([bytes("STRLEN"), key]) == .integer(1 << 20))
        #expect(try connection.command([bytes("GET"), key]) == .bulk(value))
        _ = try connection.command([bytes("DEL"), key])
    }

    @Test func pipelining() throws {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        let key = bytes(TestRedis.uniqueName("pipe"))
        for _ in 0..<100 { try connection.append([bytes("INCR"), key]) }
        try connection.flush()
        for expected in 1...100 { #expect(try connection.readReply() == .integer(Int64(expected))) }
        _ = try connection.command([bytes("DEL"), key])
    }

    @Test func selectsTheDatabase() throws {
        var configuration = try TestRedis.configuration()
        let key = bytes(TestRedis.uniqueName("db"))
        configuration.url.database = 2
        let two = try RedisConnection(configuration: configuration)
        #expect(try two.command([bytes("SET"), key, bytes("x")]) == .status("OK"))
        configuration.url.database = 3
        let three = try RedisConnection(configuration: configuration)
        #expect(try three.command([bytes("GET"), key]) == .null)
        #expect(try two.command([bytes("GET"), key]) == .bulk(bytes("x")))
        _ = try two.command([bytes("DEL"), key])
    }

    @Test func refusedCredentialsAreAHandshakeError() throws {
        var configuration = try TestRedis.configuration()
        configuration.url.username = "nobody-\(UInt32.random(in: 0...UInt32.max))"
        configuration.url.password = "wrong password"
        do {
            _ = try RedisConnection(configuration: configuration)
            Issue.record("AUTH with a made-up user succeeded")
        } catch {
            #expect(error.kind == .handshake)
            #expect(!error.description.contains("wrong password"))
        }
    }

    @Test func unreachableServerFailsQuickly() {
        let started = ContinuousClock.now
        do {
            _ = try RedisConnection(configuration: TestRedis.unreachableConfiguration())
            Issue.record("connected to a port nobody listens on")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.isConnectionFailure)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func slowReplyIsATimeout() throws {
        var configuration = try TestRedis.configuration()
        configuration.commandTimeout = .milliseconds(200)
        let connection = try RedisConnection(configuration: configuration)
        do {
            _ = try connection.command([bytes("BLPOP"), bytes(TestRedis.uniqueName("never")), bytes("5")])
            Issue.record("BLPOP on an empty list answered within 5 s")
        } catch {
            #expect(error.kind == .timeout)
            #expect(error.isConnectionFailure)
        }
        #expect(connection.isBroken)
    }

    @Test func closedConnectionThrows() throws {
        let connection = try RedisConnection(configuration: TestRedis.configuration())
        connection.close()
        #expect(connection.isBroken)
        #expect(throws: RedisError.self) { try connection.command([bytes("PING")]) }
    }
}
