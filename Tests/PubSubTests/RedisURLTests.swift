import PubSub
import Testing

@Suite("RedisURL")
struct RedisURLTests {
    @Test func hostAlone() throws {
        let url = try RedisURL("redis://localhost")
        #expect(url == RedisURL(host: "localhost", port: 6379, username: nil, password: nil, database: 0))
    }

    @Test func everything() throws {
        let url = try RedisURL("redis://alice:p%40ss%3Aw0rd%2F@cache.internal:6380/3")
        #expect(url.host == "cache.internal")
        #expect(url.port == 6380)
        #expect(url.username == "alice")
        #expect(url.password == "p@ss:w0rd/")
        #expect(url.database == 3)
    }

    @Test func passwordAlone() throws {
        let url = try RedisURL("redis://:s3cret@127.0.0.1:56379")
        #expect(url.username == nil)
        #expect(url.password == "s3cret")
        #expect(url.port == 56379)
        #expect(url.database == 0)
    }

    @Test func rawAtAndSlashInPassword() throws {
        let url = try RedisURL("redis://:a@b/c@host/2")
        #expect(url.password == "a@b/c")
        #expect(url.host == "host")
        #expect(url.database == 2)
    }

    @Test func ipv6() throws {
        let url = try RedisURL("redis://[::1]:7000/1")
        #expect(url.host == "::1")
        #expect(url.port == 7000)
        #expect(url.database == 1)
        #expect(url.redacted == "redis://[::1]:7000/1")
    }

    @Test func trailingSlashIsDatabaseZero() throws {
        #expect(try RedisURL("redis://h:1/").database == 0)
        #expect(try RedisURL("REDIS://h").host == "h")
    }

    @Test func tlsRefusedWithAReason() {
        do {
            _ = try RedisURL("rediss://:pw@cache.example:6380")
            Issue.record("rediss:// was accepted")
        } catch {
            #expect(error.kind == .configuration)
            #expect(error.message.contains("Debian's hiredis has no TLS; put Redis on a private network or use a TLS tunnel"))
            #expect(!error.message.contains("pw"))
        }
    }

    @Test(arguments: [
        "redis://h:0", "redis://h:65536", "redis://h:abc", "redis://h:", "redis://h:-1", "redis://h: 80",
        "redis://h:99999999999", "redis://[::1", "redis://[::1]x",
    ])
    func badPorts(_ text: String) {
        #expect(throws: RedisError.self) { try RedisURL(text) }
    }

    @Test(arguments: [
        "redis://h/x", "redis://h/-1", "redis://h/1/2", "redis://", "redis://:pw@", "http://h", "h:6379",
        "redis://h?db=1", "redis://:%zz@h", "redis://:%4@h", "redis://user@h", "redis://:%FF@h",
    ])
    func otherMistakes(_ text: String) {
        #expect(throws: RedisError.self) { try RedisURL(text) }
    }

    @Test func errorsNeverRepeatThePassword() {
        do {
            _ = try RedisURL("redis://:topsecret@h:notaport")
            Issue.record("accepted a bad port")
        } catch {
            #expect(!error.description.contains("topsecret"))
        }
    }

    @Test func redactedHidesThePassword() throws {
        let url = try RedisURL("redis://bob:hunter2@h:1/4")
        #expect(url.redacted == "redis://bob:***@h:1/4")
        #expect(!"\(url)".contains("hunter2"))
    }

    @Test func configurationFromURL() throws {
        let configuration = try RedisConfiguration(url: "redis://h:7/2")
        #expect(configuration.url.port == 7)
        #expect(configuration.connectTimeout == .seconds(1))
        #expect((2...4).contains(configuration.poolSize))
    }
}
