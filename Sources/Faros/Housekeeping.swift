import Handlers
import Logging
import ServiceLifecycle

/// Deletes expired sessions and stored call results every few minutes, until shutdown.
struct Housekeeping: Service {
    let domain: Domain
    let logger: Logger
    /// Often enough that tables stay small, rarely enough to cost nothing.
    static let interval: Duration = .seconds(600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await domain.sweepExpired()
                } catch {
                    logger.warning("Housekeeping failed; retrying later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: Self.interval)
            }
        }
    }
}
