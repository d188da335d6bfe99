import Handlers
import NIOPosix
import Testing
@testable import Credentials

/// Runs `body` with a hasher on a fresh pool, shutting the pool down afterwards.
func withHasher<T>(
    cost: PasswordCost = .minimum,
    threads: Int = 2,
    maxConcurrent: Int = 2,
    _ body: (PasswordHasher) async throws -> T
) async throws -> T {
    let pool = NIOThreadPool(numberOfThreads: threads)
    pool.start()
    do {
        let result = try await body(PasswordHasher(cost: cost, threadPool: pool, maxConcurrent: maxConcurrent))
        try await pool.shutdownGracefully()
        return result
    } catch {
        try? await pool.shutdownGracefully()
        throw error
    }
}

func cost(_ rawValue: Int) -> PasswordCost { PasswordCost(rawValue: rawValue)! }

@Suite struct PasswordHasherTests {
    @Test func hashVerifiesAndWrongPasswordDoesNot() async throws {
        try await withHasher { hasher in
            let hash = try await hasher.hash("correct horse battery staple")
            #expect(hash.hasPrefix("$y$"))
            #expect(hash.split(separator: "$", omittingEmptySubsequences: false).count == 5)
            #expect(try await hasher.verify("correct horse battery staple", against: hash))
            #expect(try await !hasher.verify("correct horse battery stapl", against: hash))
            #expect(try await !hasher.verify("Correct horse battery staple", against: hash))
            #expect(try await !hasher.verify("", against: hash))
        }
    }

    @Test func defaultCostHashVerifies() async throws {
        try await withHasher(cost: .default) { hasher in
            let hash = try await hasher.hash("p@ssw0rd-default")
            #expect(!hasher.needsRehash(hash))
            #expect(try await hasher.verify("p@ssw0rd-default", against: hash))
        }
    }

    @Test func saltDiffersPerHash() async throws {
        try await withHasher { hasher in
            let first = try await hasher.hash("same password")
            let second = try await hasher.hash("same password")
            #expect(first != second)
            let salts = [first, second].map { $0.split(separator: "$")[2] }
            #expect(salts[0] != salts[1])
            #expect(try await hasher.verify("same password", against: first))
            #expect(try await hasher.verify("same password", against: second))
        }
    }

    @Test func anyUTF8AndMaximumLengthPasswords() async throws {
        try await withHasher { hasher in
            for password in ["ünïcødé 🔑 пароль", String(repeating: "x", count: PasswordHasher.maxPasswordBytes), " "] {
                let hash = try await hasher.hash(password)
                #expect(try await hasher.verify(password, against: hash))
            }
        }
    }

    @Test func nulInPasswordIsRefusedNotTruncated() async throws {
        try await withHasher { hasher in
            let hash = try await hasher.hash("abc")
            for password in ["abc\0def", "\0", "abc\0"] {
                await #expect(throws: CredentialsError.self) { try await hasher.hash(password) }
                do {
                    _ = try await hasher.verify(password, against: hash)
                    Issue.record("verify accepted a password with NUL")
                } catch let error as CredentialsError {
                    #expect(error.code == .passwordContainsNUL)
                }
                do {
                    try await hasher.verifyDummy(password)
                    Issue.record("verifyDummy accepted a password with NUL")
                } catch let error as CredentialsError {
                    #expect(error.code == .passwordContainsNUL)
                }
            }
        }
    }

    @Test func overlongPasswordIsRefused() async throws {
        try await withHasher { hasher in
            let password = String(repeating: "x", count: PasswordHasher.maxPasswordBytes + 1)
            do {
                _ = try await hasher.hash(password)
                Issue.record("hash accepted an overlong password")
            } catch let error as CredentialsError {
                #expect(error.code == .passwordTooLong)
            }
        }
    }

    @Test(arguments: [
        "",
        "plain text",
        "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01",
        "$y$",
        "$y$$salt$hash",
        "$y$j9T$abc\0def$hash",
        "$y$!!!$abc$def",
    ])
    func malformedStoredHashIsAnError(hash: String) async throws {
        try await withHasher { hasher in
            do {
                let result = try await hasher.verify("password", against: hash)
                Issue.record("verify returned \(result) for a malformed hash")
            } catch let error as CredentialsError {
                #expect(error.code == .malformedHash)
            }
        }
    }

    /// FAROS's own bcrypt hashes (Tests/Fixtures/faros: alice's and dave's, as its app wrote
    /// them at cost 12) verify through libxcrypt, and each needs a rehash.
    @Test func farosBcryptHashesVerifyAndNeedARehash() async throws {
        let alice = "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq"
        let dave = "$2b$12$YCdICvtjyxC8Nvl/Lh8s3OYW8aJsvLjySyYGt/Zt.LzqooesAzCUG"
        try await withHasher { hasher in
            let aliceRight = try await hasher.verify("alice-password-1", against: alice)
            let aliceWrong = try await hasher.verify("alice-password-2", against: alice)
            let daveNew = try await hasher.verify("dave-password-new-5", against: dave)
            let daveOld = try await hasher.verify("dave-password-4", against: dave)
            #expect(aliceRight && daveNew)
            #expect(!aliceWrong && !daveOld)
            #expect(hasher.needsRehash(alice))
            #expect(PasswordHasher.verifiesForeignHash(alice))
            let yescrypt = try await hasher.hash("a yescrypt one")
            #expect(!PasswordHasher.verifiesForeignHash(yescrypt))
        }
    }

    /// Strings that only look like bcrypt are refused as malformed, never compared.
    @Test(arguments: [
        "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6kn",   // one character short
        "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq=",  // one too many
        "$2x$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq",  // unknown variant
        "$2b$03$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6knq",  // cost below 4
        "$2b$12$LAazcEPtIBiJrejYog79MOgkzrvyJgSi7BDgK2Cva8UexBWMm6kn!",  // not bcrypt's base64
    ])
    func nearBcryptStringsAreMalformed(hash: String) async throws {
        #expect(!PasswordHasher.verifiesForeignHash(hash))
        try await withHasher { hasher in
            await #expect(throws: CredentialsError.self) { try await hasher.verify("alice-password-1", against: hash) }
        }
    }

    @Test func verifyDummyRuns() async throws {
        try await withHasher { hasher in
            try await hasher.verifyDummy("no such user's password")
            try await hasher.verifyDummy("")
        }
    }

    @Test func needsRehashComparesCosts() async throws {
        let low = try await withHasher(cost: cost(1)) { try await $0.hash("password") }
        let current = try await withHasher(cost: cost(3)) { hasher in
            let hash = try await hasher.hash("password")
            #expect(hasher.needsRehash(low))
            #expect(!hasher.needsRehash(hash))
            #expect(hasher.needsRehash("$2b$12$abcdefghijklmnopqrstuu"))
            #expect(hasher.needsRehash(""))
            #expect(hasher.needsRehash("$y$zzz$salt$hash"))
            return hash
        }
        // A hash above the configured cost is not downgraded.
        try await withHasher(cost: cost(1)) { hasher async throws in
            #expect(!hasher.needsRehash(current))
            #expect(!hasher.needsRehash(low))
            #expect(try await hasher.verify("password", against: current))
        }
    }

    @Test func everyCostHasADistinctParameterField() {
        let fields = PasswordCost.all.compactMap(Yescrypt.parameterField(for:))
        #expect(fields.count == 11)
        #expect(Set(fields).count == 11)
        #expect(Yescrypt.parameterField(for: .default) == "jBT")
    }

    @Test func costRange() {
        #expect(PasswordCost(rawValue: 0) == nil)
        #expect(PasswordCost(rawValue: 12) == nil)
        #expect(PasswordCost(rawValue: 1) == .minimum)
        #expect(PasswordCost(rawValue: 11) == .maximum)
        #expect(PasswordCost.default.rawValue == 7)
    }

    @Test func concurrentHashesStayWithinTheLimit() async throws {
        try await withHasher(threads: 4, maxConcurrent: 2) { hasher in
            let hashes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<10 {
                    group.addTask { try await hasher.hash("password \(index)") }
                }
                var hashes: [String] = []
                for try await hash in group { hashes.append(hash) }
                return hashes
            }
            #expect(hashes.count == 10)
            #expect(Set(hashes).count == 10)
            #expect(hasher.limiter.mostHolders <= 2)
            #expect(hasher.limiter.mostHolders >= 1)
            #expect(hasher.limiter.waiterCount == 0)
        }
    }

    #if os(Linux)
    @Test func hashingThreadsRunAtTheLoweredPriorityAndOthersDoNot() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let base = try #require(ThreadNiceness.current)
        let before = try await pool.runIfActive { ThreadNiceness.current }
        #expect(before == base)
        let hasher = PasswordHasher(cost: .minimum, threadPool: pool, maxConcurrent: 1, niceIncrement: 10)
        #expect(hasher.niceness.target == min(base + 10, 19))
        let hash = try await hasher.hash("a password here")
        #expect(try await pool.runIfActive { ThreadNiceness.current } == min(base + 10, 19))
        // Applied once: more hashes on the same thread do not lower it further.
        #expect(try await hasher.verify("a password here", against: hash))
        #expect(try await pool.runIfActive { ThreadNiceness.current } == min(base + 10, 19))
        // Only the pool's thread: the test's own thread keeps the process's niceness.
        #expect(ThreadNiceness.current == base)
    }

    @Test func noIncrementLeavesThePoolAlone() async throws {
        try await withHasher(threads: 1, maxConcurrent: 1) { hasher in
            let base = try #require(ThreadNiceness.current)
            _ = try await hasher.hash("a password here")
            #expect(hasher.niceness.target == base)
        }
    }
    #endif
}

@Suite(.timeLimit(.minutes(1))) struct PasswordHasherQueueTests {
    /// Every hashing call refuses at once with `PasswordHashingBusy` while its slots are taken
    /// and its queue is full.
    @Test func aFullQueueIsBusy() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let hasher = PasswordHasher(cost: .minimum, threadPool: pool, maxConcurrent: 1, maxWaiting: 0)
        let hash = try await hasher.hash("correct horse battery staple")
        let gate = Gate()
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hasher.limiter.withPermit { await recorder.enter(0); await gate.wait() } }
            await eventually { await recorder.order == [0] }
            await #expect(throws: PasswordHashingBusy.self) { _ = try await hasher.hash("correct horse battery staple") }
            await #expect(throws: PasswordHashingBusy.self) { _ = try await hasher.verify("x", against: hash) }
            await #expect(throws: PasswordHashingBusy.self) { try await hasher.verifyDummy("x") }
            await gate.open()
            try await group.waitForAll()
        }
        #expect(try await hasher.verify("correct horse battery staple", against: hash))
        try await pool.shutdownGracefully()
    }
}
