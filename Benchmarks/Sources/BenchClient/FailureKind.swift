import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A short name for why a connection failed, so a report can count failures by kind (a few
/// thousand "Too many open files" say something different from a few "handshake answered 401").
public func failureKind(_ error: any Error) -> String {
    if let error = error as? WebSocketOpenError { return error.description }
    if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
        return failureKind(first.error)
    }
    if let error = error as? IOError { return "\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))" }
    if let error = error as? ChannelError {
        switch error {
        case .connectTimeout: return "connect timeout"
        case .ioOnClosedChannel: return "io on closed channel"
        case .eof: return "eof"
        default: return "channel error \(error)"
        }
    }
    // A tool's own reasons (an answer the server refused with, say) name themselves.
    if let error = error as? any CustomStringConvertible { return String(error.description.prefix(160)) }
    return String(describing: type(of: error))
}
