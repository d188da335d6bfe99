/// The yescrypt cost: libxcrypt's `count` for the `$y$` method, 1 (cheapest) to 11.
///
/// Each step roughly doubles both time and memory (libxcrypt maps it to yescrypt's N and r).
/// Measured on the 2-core development machine under load at `nice 19`: cost 5 ≈ 48 ms,
/// cost 6 ≈ 110 ms, cost 7 ≈ 210 ms per hash.
public struct PasswordCost: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The libxcrypt count, in ``minimum``...``maximum``.
    public let rawValue: Int

    /// The cheapest cost libxcrypt accepts for yescrypt.
    public static let minimum = PasswordCost(uncheckedRawValue: 1)
    /// The most expensive cost libxcrypt accepts for yescrypt (seconds per hash).
    public static let maximum = PasswordCost(uncheckedRawValue: 11)

    /// Cost 6: about 50–150 ms per hash on the target machine, and 32 MiB of memory per hash.
    ///
    /// Long enough to make offline guessing expensive, short enough that a login answers
    /// promptly; the hasher's concurrency limit bounds the memory a login storm can claim.
    public static let `default` = PasswordCost(uncheckedRawValue: 6)

    /// A cost, or nil outside 1...11.
    public init?(rawValue: Int) {
        guard (PasswordCost.minimum.rawValue...PasswordCost.maximum.rawValue).contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(uncheckedRawValue: Int) {
        self.rawValue = uncheckedRawValue
    }

    public static func < (lhs: PasswordCost, rhs: PasswordCost) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { "yescrypt cost \(rawValue)" }

    /// Every cost in order, for mapping a stored hash's parameters back to a cost.
    static let all: [PasswordCost] = (minimum.rawValue...maximum.rawValue).map(PasswordCost.init(uncheckedRawValue:))
}
