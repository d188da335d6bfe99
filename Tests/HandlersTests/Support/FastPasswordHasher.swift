import Handlers

/// A password hasher for handler tests: instant, deterministic, no thread pool.
///
/// The hash is `fast$<cost>$<password>` (never for production: it stores the password). Enough
/// for the domain's own logic: verification, the dummy check for unknown users, and rehashing
/// when the cost rises. yescrypt itself is tested in CredentialsTests.
struct FastPasswordHasher: PasswordHashing {
    var cost = 1

    func hash(_ password: String) async throws -> String {
        "fast$\(cost)$\(password)"
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        let parts = hash.split(separator: "$", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "fast" && parts[2] == password
    }

    func verifyDummy(_ password: String) async throws {}

    func needsRehash(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let stored = Int(parts[1]) else { return true }
        return stored < cost
    }
}
