#if canImport(Glibc)
import Glibc
#endif
import CCurl

/// The Swift closures behind a handle's C callbacks. libcurl gets an unretained pointer to this
/// object as each callback's user data; ``CurlEasy`` owns it, so it outlives every call.
final class CurlCallbacks {
    var write: ((UnsafeRawBufferPointer) -> Int)?
    var read: ((UnsafeMutableRawBufferPointer) -> Int)?
    var socketOpened: ((Int32) -> Bool)?
    var closeSocket: ((Int32) -> Int32)?
    var debug: ((CurlDebugKind, UnsafeRawBufferPointer) -> Void)?

    static func from(_ user: UnsafeMutableRawPointer?) -> CurlCallbacks? {
        user.map { Unmanaged<CurlCallbacks>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// What a debug callback is shown (curl_infotype).
public enum CurlDebugKind: Sendable {
    case text
    /// Protocol lines received: HTTP response headers, SMTP replies.
    case headerIn
    /// Protocol lines sent: HTTP request headers, SMTP commands (AUTH's credentials included).
    case headerOut
    case dataIn
    case dataOut
    case other

    init(_ type: curl_infotype) {
        switch type {
        case CURLINFO_TEXT: self = .text
        case CURLINFO_HEADER_IN: self = .headerIn
        case CURLINFO_HEADER_OUT: self = .headerOut
        case CURLINFO_DATA_IN: self = .dataIn
        case CURLINFO_DATA_OUT: self = .dataOut
        default: self = .other
        }
    }
}

extension CurlEasy {
    /// Returned from a read closure to abort the exchange (CURL_READFUNC_ABORT).
    public static let readAbort = Int(CURL_READFUNC_ABORT)

    private var user: UnsafeMutableRawPointer { Unmanaged.passUnretained(self.callbacks).toOpaque() }

    /// Response body bytes as they arrive; return how many were taken (fewer fails the exchange).
    public func onWrite(_ body: @escaping (UnsafeRawBufferPointer) -> Int) throws(CurlError) {
        self.callbacks.write = body
        try Self.check(faros_curl_setopt_pointer(self.handle, CURLOPT_WRITEDATA, self.user))
        try Self.check(faros_curl_setopt_data_callback(self.handle, CURLOPT_WRITEFUNCTION) { buffer, size, count, user in
            guard let callbacks = CurlCallbacks.from(user), let write = callbacks.write else { return 0 }
            return write(UnsafeRawBufferPointer(start: buffer, count: size * count))
        })
    }

    /// Upload bytes on demand: fill the buffer, return how many were written, 0 at the end, or
    /// ``readAbort``.
    public func onRead(_ body: @escaping (UnsafeMutableRawBufferPointer) -> Int) throws(CurlError) {
        self.callbacks.read = body
        try Self.check(faros_curl_setopt_pointer(self.handle, CURLOPT_READDATA, self.user))
        try Self.check(faros_curl_setopt_data_callback(self.handle, CURLOPT_READFUNCTION) { buffer, size, count, user in
            guard let buffer, let callbacks = CurlCallbacks.from(user), let read = callbacks.read else {
                return Int(CURL_READFUNC_ABORT)
            }
            return read(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        })
    }

    /// Each socket libcurl opens, before it connects; return false to fail the exchange.
    public func onSocketOpened(_ body: @escaping (Int32) -> Bool) throws(CurlError) {
        self.callbacks.socketOpened = body
        try Self.check(faros_curl_setopt_pointer(self.handle, CURLOPT_SOCKOPTDATA, self.user))
        try Self.check(faros_curl_setopt_sockopt_callback(self.handle) { user, fd, _ in
            guard let callbacks = CurlCallbacks.from(user), let opened = callbacks.socketOpened else { return CURL_SOCKOPT_OK }
            return opened(fd) ? CURL_SOCKOPT_OK : CURL_SOCKOPT_ERROR
        })
    }

    /// Closes a socket in libcurl's place; the closure must close it and return close's result.
    public func onCloseSocket(_ body: @escaping (Int32) -> Int32) throws(CurlError) {
        self.callbacks.closeSocket = body
        try Self.check(faros_curl_setopt_pointer(self.handle, CURLOPT_CLOSESOCKETDATA, self.user))
        try Self.check(faros_curl_setopt_closesocket_callback(self.handle) { user, fd in
            guard let callbacks = CurlCallbacks.from(user), let close = callbacks.closeSocket else { return Glibc.close(fd) }
            return close(fd)
        })
    }

    /// What libcurl shows when ``CurlFlagOption/verbose`` is on, instead of printing it.
    public func onDebug(_ body: @escaping (CurlDebugKind, UnsafeRawBufferPointer) -> Void) throws(CurlError) {
        self.callbacks.debug = body
        try Self.check(faros_curl_setopt_pointer(self.handle, CURLOPT_DEBUGDATA, self.user))
        try Self.check(faros_curl_setopt_debug_callback(self.handle) { _, type, data, size, user in
            guard let callbacks = CurlCallbacks.from(user), let debug = callbacks.debug else { return 0 }
            debug(CurlDebugKind(type), UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
            return 0
        })
    }
}
