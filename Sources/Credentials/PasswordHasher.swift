public import Handlers
public import NIOPosix

/// Hashes and verifies passwords with yescrypt, off the caller's thread and with bounded
/// concurrency.
///
/// Hash strings are self-describing (`$y$j9T$<salt>$<hash>`): method, cost and a fresh 128-bit
/// salt per hash travel with the hash, so a store keeps one text column and costs can rise over
/// time (``needsRehash(_:)``, checked at login). The yescrypt work runs on the given
/// `NIOThreadPool`, and at most `maxConcurrent` hashes run at once, each taking tens of
/// megabytes: a login storm queues here (FIFO) instead of starving the pool or the memory, and
/// past `maxWaiting` queued hashes a call throws ``PasswordHashingBusy`` at once instead of
/// joining a queue whose wait would grow without bound.
/// With a `niceIncrement`, the pool's threads also hash at a lower scheduling priority, so that
/// on a saturated machine the storm yields the CPU to other work.
///
/// Password policy (the spec's 8–72 bytes) is the caller's; this type only refuses what it
/// cannot hash faithfully: NUL bytes, which the C interface would cut the password at, and more
/// than ``maxPasswordBytes``.
public struct PasswordHasher: PasswordHashing {
    /// The longest password accepted: libxcrypt's own limit (511 bytes), far above the spec's 72.
    public static let maxPasswordBytes = Yescrypt.maxPassphraseBytes

    /// The cost of new hashes; stored hashes below it need a rehash.
    public let cost: PasswordCost

    private let threadPool: NIOThreadPool
    let limiter: ConcurrencyLimiter
    let niceness: ThreadNiceness

    /// A setting at ``cost`` with a fixed salt: ``verifyDummy(_:)`` hashes against it so a login
    /// for an unknown user costs what a real verification costs.
    private let dummySetting: String

    /// Creates a hasher that runs at most `maxConcurrent` hashes at a time on `threadPool`.
    ///
    /// - Parameters:
    ///   - cost: the cost of new hashes; ``PasswordCost/default`` takes about 100 ms.
    ///   - threadPool: a started pool; the caller owns its lifecycle.
    ///   - maxConcurrent: at least 1; each running hash holds 64 MiB and a core at the default
    ///     cost; a value below the pool's thread count and at most the core count leaves threads
    ///     and CPU for other work.
    ///   - maxWaiting: how many hashes may wait for one of the `maxConcurrent` slots; more are
    ///     refused with ``PasswordHashingBusy``. nil means ``defaultWaitingPerSlot`` per slot.
    ///   - niceIncrement: how far below the process's scheduling priority the pool's threads
    ///     hash (Linux nice values, per thread; 0 leaves them alone). Give it only for a pool
    ///     kept for hashing: the threads stay there for whatever else they run.
    public init(
        cost: PasswordCost = .default, threadPool: NIOThreadPool, maxConcurrent: Int, maxWaiting: Int? = nil,
        niceIncrement: Int32 = 0
    ) {
        precondition(maxConcurrent >= 1, "maxConcurrent must be at least 1")
        self.cost = cost
        self.threadPool = threadPool
        self.limiter = ConcurrencyLimiter(
            limit: maxConcurrent, maxWaiters: maxWaiting ?? maxConcurrent * Self.defaultWaitingPerSlot)
        self.niceness = ThreadNiceness(increment: niceIncrement)
        do {
            self.dummySetting = try Yescrypt.setting(cost: cost, salt: [UInt8](repeating: 0xA5, count: Yescrypt.saltByteCount))
        } catch {
            // PasswordCost admits only counts yescrypt accepts; failing here means the installed
            // libxcrypt lacks yescrypt, a deployment error no request could work around.
            fatalError("libxcrypt cannot produce a yescrypt setting: \(error)")
        }
    }

    /// Waiting hashes allowed per concurrent slot by default: 8, so an admitted caller waits
    /// behind at most 8 hashes per core, under a second at the default cost whatever the core
    /// count, while a burst of real logins (a team arriving in the morning) still queues.
    public static let defaultWaitingPerSlot = 8

    /// A new hash string of `password` with a fresh random salt, at ``cost``.
    public func hash(_ password: String) async throws -> String {
        try Self.validate(password)
        let cost = self.cost
        return try await withSlot {
            try await threadPool.runIfActive { [niceness] in
                niceness.apply()
                let setting = try Yescrypt.setting(cost: cost, salt: OpenSSLCrypto.randomBytes(Yescrypt.saltByteCount))
                return try Yescrypt.hash(password: password, setting: setting)
            }
        }
    }

    /// Whether `password` matches the stored `hash`, compared in constant time.
    ///
    /// A bcrypt hash (`$2b$…`, from an imported FAROS account) verifies too; ``needsRehash(_:)``
    /// is true for it, so the sign-in that succeeds replaces it with a yescrypt hash.
    ///
    /// Throws ``CredentialsError/Code-swift.struct/malformedHash`` when `hash` is neither a
    /// yescrypt nor a bcrypt hash string: a corrupt row is a server fault, not a wrong password.
    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try Self.validate(password)
        guard Yescrypt.parameterField(ofHash: hash) != nil || Yescrypt.isBcrypt(hash),
              hash.utf8.count <= Yescrypt.maxHashBytes, !hash.utf8.contains(0)
        else {
            throw CredentialsError(.malformedHash, "stored hash is not a yescrypt or bcrypt hash string")
        }
        let computed: String = try await withSlot {
            try await threadPool.runIfActive { [niceness] in
                niceness.apply()
                do {
                    return try Yescrypt.hash(password: password, setting: hash)
                } catch let error as CredentialsError where error.code == .hashingFailed {
                    throw CredentialsError(.malformedHash, "libxcrypt rejected the stored hash string")
                }
            }
        }
        return OpenSSLCrypto.constantTimeEqual(Array(computed.utf8), Array(hash.utf8))
    }

    /// Whether `hash` is a foreign hash string ``verify(_:against:)`` accepts and the next
    /// successful sign-in replaces: a bcrypt hash (`$2a$`, `$2b$`, `$2y$`), as FAROS stores them.
    public static func verifiesForeignHash(_ hash: String) -> Bool {
        Yescrypt.isBcrypt(hash)
    }

    /// Spends the work of a real ``verify(_:against:)`` at ``cost`` without a stored hash.
    ///
    /// Call it when the account does not exist, so "no such user" and "wrong password" take the
    /// same time and cannot be told apart. It refuses the same passwords that `verify` refuses.
    public func verifyDummy(_ password: String) async throws {
        try Self.validate(password)
        let setting = dummySetting
        let computed: String = try await withSlot {
            try await threadPool.runIfActive { [niceness] in
                niceness.apply()
                return try Yescrypt.hash(password: password, setting: setting)
            }
        }
        // The comparison a real verify makes, against a string no password produces.
        _ = OpenSSLCrypto.constantTimeEqual(Array(computed.utf8), Array(setting.utf8))
    }

    /// Runs `body` in one of the limiter's slots; a full queue is ``PasswordHashingBusy``.
    private func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await limiter.withPermit(body)
        } catch is ConcurrencyLimiter.QueueFull {
            throw PasswordHashingBusy()
        }
    }

    /// Whether a stored hash should be replaced (after a successful login) because its cost is
    /// below ``cost`` or it is not a yescrypt hash at all.
    ///
    /// A hash above the current cost is left alone: lowering the configured cost should not
    /// weaken existing hashes.
    public func needsRehash(_ hash: String) -> Bool {
        guard let field = Yescrypt.parameterField(ofHash: hash),
              let storedCost = Self.costsByParameterField[field]
        else { return true }
        return storedCost < cost
    }

    /// The cost behind each parameter field libxcrypt writes; fields made with other parameters
    /// (by other tools) are absent and count as needing a rehash.
    private static let costsByParameterField: [String: PasswordCost] = {
        var table: [String: PasswordCost] = [:]
        for cost in PasswordCost.all {
            if let field = Yescrypt.parameterField(for: cost) { table[field] = cost }
        }
        return table
    }()

    private static func validate(_ password: String) throws(CredentialsError) {
        guard password.utf8.count <= maxPasswordBytes else {
            throw CredentialsError(.passwordTooLong, "password is \(password.utf8.count) bytes, more than \(maxPasswordBytes)")
        }
        guard !password.utf8.contains(0) else {
            throw CredentialsError(.passwordContainsNUL, "password contains a NUL byte")
        }
    }
}
