import Credentials
@testable import Handlers
import JSON
import JSONRPC
import StoreTestSupport
import Testing

/// A flood of wrong logins from one address: the address's limit counts each attempt before
/// the password is hashed, so the flood costs at most the limit in hashing.
@Suite(.timeLimit(.minutes(2))) struct LoginFloodTests {
    /// `t`'s domain with `hasher`, and a client factory on it.
    private static func engine(_ t: TestDomain, hasher: any PasswordHashing) -> (Domain, RPCEngine<ClientSession>) {
        var domain = t.domain
        domain.hasher = hasher
        return (domain, RPCEngine(registry: domain.registry()))
    }

    @Test(arguments: TestBackend.allCases)
    func concurrentWrongLoginsFromOneAddressHashAtMostTheLimit(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            let hasher = GatedPasswordHasher()
            let (domain, engine) = Self.engine(t, hasher: hasher)
            let limit = RateLimitPolicy.failedLoginsPerAddress.limit
            let attempts = 120
            let refused = CommitCounter()
            let unauthenticated = CommitCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<attempts {
                    group.addTask {
                        // Different (unknown) names, so only the address's limit applies.
                        let client = TestClient(engine: engine, address: "198.51.100.7", sessions: domain.sessions)
                        let error = await Auth.error(client, "auth.login", ["username": .string("guess\(index)"), "password": "wrong password"])
                        if error?.code == .rateLimited, (error?.data?["retryAfterMs"]?.numberValue?.int64 ?? 0) > 0 {
                            refused.increment()
                        } else if error?.code == .unauthenticated {
                            unauthenticated.increment()
                        }
                    }
                }
                // Every attempt has either been answered or reached the hasher, which holds them
                // all: the refusals came while the admitted hashes were still running.
                try await Auth.eventually("every attempt answered or hashing") {
                    refused.value + hasher.calls == attempts
                }
                #expect(hasher.calls <= limit)
                #expect(refused.value >= attempts - limit)
                hasher.open()
                try await group.waitForAll()
            }
            #expect(hasher.calls == limit)
            #expect(unauthenticated.value == limit)
            #expect(refused.value == attempts - limit)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBusyHasherAnswersRateLimitedAndCountsNothing(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana")
            let (domain, engine) = Self.engine(t, hasher: GatedPasswordHasher(busy: true))
            for _ in 0..<30 {
                let client = TestClient(engine: engine, address: "198.51.100.8", sessions: domain.sessions)
                let error = await Auth.error(client, "auth.login", ["username": "ana", "password": .string(Auth.password)])
                #expect(error?.code == .rateLimited)
                #expect(error?.data?["retryAfterMs"]?.numberValue?.int == PasswordHashingBusy.retryAfterMilliseconds)
            }
            // Nothing was checked, so neither the address nor the account used any budget.
            for _ in 0..<RateLimitPolicy.failedLoginsPerAccount.limit {
                #expect(await Auth.error(t.client(address: "198.51.100.8"), "auth.login", ["username": "ana", "password": "wrong password"])?.code == .unauthenticated)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aSuccessTakesBackItsOwnAttemptOnly(_ backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let t = Auth.domain(store)
            try await Auth.register(t, t.client(), "ana")
            let limit = RateLimitPolicy.failedLoginsPerAddress.limit
            for index in 0..<(limit - 1) {
                _ = await Auth.error(t.client(address: "198.51.100.9"), "auth.login", ["username": .string("nobody\(index)"), "password": "x"])
            }
            // Successes from the address do not use up what is left of its budget…
            for _ in 0..<5 { try await Auth.login(t.client(address: "198.51.100.9"), "ana") }
            #expect(await Auth.error(t.client(address: "198.51.100.9"), "auth.login", ["username": "nobody", "password": "x"])?.code == .unauthenticated)
            // …nor clear its failures.
            #expect(await Auth.error(t.client(address: "198.51.100.9"), "auth.login", ["username": "ana", "password": .string(Auth.password)])?.code == .rateLimited)
        }
    }
}
