#if canImport(Glibc)
import Glibc
#endif

/// Lowers the scheduling priority of the threads that run password hashes, so that on a busy
/// machine a login storm takes the CPU other calls leave over instead of an equal share of it.
///
/// Linux keeps the nice value per thread (`setpriority(2)` with `PRIO_PROCESS` and 0 applies to
/// the calling thread), so only the hashing pool's threads are affected. Elsewhere this does
/// nothing.
struct ThreadNiceness: Sendable {
    /// The nice value hashing threads run at: the process's own plus the increment, at most 19.
    let target: Int32

    /// `increment` above the niceness of the calling thread (the process's, when called at
    /// start-up); 0 leaves the threads as they are.
    init(increment: Int32) {
        let base = Self.current ?? 0
        self.target = increment > 0 ? min(base + increment, 19) : base
        self.enabled = increment > 0
    }

    private let enabled: Bool

    /// Puts the calling thread at ``target`` unless it is there already (two system calls at
    /// most, next to tens of milliseconds of hashing).
    func apply() {
        #if os(Linux)
        guard self.enabled, Self.current != self.target else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, self.target)
        #endif
    }

    /// The calling thread's nice value (nil where it cannot be read).
    static var current: Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return value == -1 && errno != 0 ? nil : value
        #else
        return nil
        #endif
    }
}
