import Glibc
import Synchronization

/// A child process for the tests' own servers (redis-server, the Python SMTP server, openssl),
/// started with `posix_spawn`.
///
/// Not Foundation's `Process`: on Linux, Swift 6.3's `Process.run()` lists `/proc/self/fd` to
/// close inherited descriptors and can over-read a directory entry there and crash
/// (swift-corelibs-foundation PR 5472). A test process holds many descriptors (pools, sockets),
/// which is when it happens; it crashed one full local run. Here the child closes every
/// descriptor above 2 through glibc's `posix_spawn_file_actions_addclosefrom_np` instead, so no
/// connection of the tests stays open in a child.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The exit status once reaped (`waitpid` can only report it once).
    private let reaped = Mutex<Int32?>(nil)

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `path` with `arguments` (not including `argv[0]`) and the test's environment;
    /// standard output and error go to the given descriptors (the child gets copies), or to
    /// `/dev/null`.
    public init(_ path: String, _ arguments: [String], standardOutput: Int32? = nil, standardError: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        guard let closeFrom = Self.addCloseFrom else {
            throw SpawnError(description: "glibc has no posix_spawn_file_actions_addclosefrom_np")
        }
        guard closeFrom(&actions, 3) == 0 else { throw SpawnError(description: "addclosefrom failed") }
        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { buffer in
            posix_spawn(&pid, path, &actions, nil, UnsafeMutablePointer(mutating: buffer.baseAddress!), environ)
        }
        guard result == 0 else { throw SpawnError(description: "posix_spawn \(path): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool {
        reaped.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
            status = raw
            return false
        }
    }

    /// Sends `signal` unless the child is already reaped (its pid may be someone else's by then).
    public func signal(_ signal: Int32) {
        reaped.withLock { status in
            if status == nil { _ = kill(pid, signal) }
        }
    }

    /// Waits for the child to exit; its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        let raw = reaped.withLock { status -> Int32 in
            if let status { return status }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1, errno == EINTR {}
            status = raw
            return raw
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc 2.34+ has it, but Swift's Glibc module does not declare it (it is a GNU extension).
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
