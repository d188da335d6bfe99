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
    return String(describing: type(of: error))
}
