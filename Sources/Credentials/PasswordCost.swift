/// The yescrypt cost: libxcrypt's `count` for the `$y$` method, 1 (cheapest) to 11.
///
/// From cost 3 up, each step doubles both time and memory (libxcrypt maps it to yescrypt's N and
/// r). Measured on the 2-core development machine at `nice 19`, one hash with a core free vs. with
/// both cores busy: cost 5 ≈ 25 / 48 ms (16 MiB), cost 6 ≈ 48 / 110 ms (32 MiB), cost 7 ≈
/// 95 / 210 ms (64 MiB), cost 8 ≈ 395 ms busy (128 MiB).
public struct PasswordCost: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The libxcrypt count, in ``minimum``...``maximum``.
    public let rawValue: Int

    /// The cheapest cost libxcrypt accepts for yescrypt.
    public static let minimum = PasswordCost(uncheckedRawValue: 1)
    /// The most expensive cost libxcrypt accepts for yescrypt (seconds per hash).
    public static let maximum = PasswordCost(uncheckedRawValue: 11)

    /// Cost 7: about 95 ms per hash on the target machine (210 ms when both cores are busy), and
    /// 64 MiB of memory per hash.
    ///
    /// The middle of the 50–150 ms a login can spend: long enough to make offline guessing
    /// expensive, short enough that a login answers promptly. The hasher's concurrency limit
    /// bounds the memory (limit × 64 MiB) and CPU a login storm can claim.
    public static let `default` = PasswordCost(uncheckedRawValue: 7)

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
