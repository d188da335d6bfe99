/// The port through which the domain hashes and checks passwords.
///
/// Hashing is slow on purpose and runs somewhere the caller does not see (Credentials' yescrypt
/// hasher owns a thread pool); the domain only awaits the result, and its tests substitute a
/// fast deterministic double.
///
/// An implementation that bounds how many hashes may wait throws ``PasswordHashingBusy`` from
/// ``hash(_:)``, ``verify(_:against:)`` and ``verifyDummy(_:)`` when that queue is full, at once
/// and without hashing; callers let it through (it answers -32029).
public protocol PasswordHashing: Sendable {
    /// A new self-describing hash string of `password` with a fresh salt.
    func hash(_ password: String) async throws -> String

    /// Whether `password` matches `hash`.
    func verify(_ password: String, against hash: String) async throws -> Bool

    /// Costs what a real verification costs and matches nothing: a login for an unknown user
    /// must not answer faster than one for a known user.
    func verifyDummy(_ password: String) async throws

    /// Whether `hash` was made at a lower cost than new hashes get, so login should replace it.
    func needsRehash(_ hash: String) -> Bool
}
