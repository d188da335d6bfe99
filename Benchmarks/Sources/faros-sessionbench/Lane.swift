import BenchClient
import NIOConcurrencyHelpers
import NIOCore

/// One of the `concurrency` lanes that open sessions one after another: a lane takes the next
/// session number, opens it, waits until it is ready and takes the next, so at most `concurrency`
/// opens are in flight, as with a crowd of clients arriving together (a reconnect storm) rather
/// than a rate set in advance. A lane and every session it opened live on one event loop; its
/// counters are touched only there.
final class Lane: @unchecked Sendable {
    let loop: any EventLoop
    let dialer: WebSocketDialer
    let next: NIOLockedValueBox<Int>
    let total: Int
    let subscribeRequest: (@Sendable (Int, ByteBufferAllocator) -> ByteBuffer)?
    let finished: EventLoopPromise<Void>

    var sessions: [IdleSession] = []
    /// From the TCP connect's start to ready (the subscription answered), for each session.
    var openLatency = LatencyHistogram()
    var failures: [String: Int] = [:]
    var lastReady: UInt64 = 0
    var open = 0
    var pongs = 0
    var notifications = 0
    var unexpected = 0
    var closedWhileHeld = 0

    init(loop: any EventLoop, dialer: WebSocketDialer, next: NIOLockedValueBox<Int>, total: Int,
         subscribeRequest: (@Sendable (Int, ByteBufferAllocator) -> ByteBuffer)?) {
        self.loop = loop
        self.dialer = dialer
        self.next = next
        self.total = total
        self.subscribeRequest = subscribeRequest
        finished = loop.makePromise(of: Void.self)
    }

    func start() { loop.execute { self.openNext() } }

    private func openNext() {
        let index = next.withLockedValue { value -> Int in
            defer { value += 1 }
            return value
        }
        guard index < total else { finished.succeed(()); return }
        let started = monotonicNanoseconds()
        let session = IdleSession(subscribe: subscribeRequest.map { $0(index, ByteBufferAllocator()) },
                                  ready: loop.makePromise(of: Void.self), lane: self)
        dialer.open(on: loop, delegate: session, index: index).whenComplete { result in
            switch result {
            case .success: self.open += 1
            case .failure(let error): session.fail(error)
            }
        }
        session.ready.futureResult.whenComplete { result in
            let now = monotonicNanoseconds()
            switch result {
            case .success:
                self.sessions.append(session)
                self.openLatency.record(nanoseconds: now - started)
                self.lastReady = max(self.lastReady, now)
            case .failure(let error):
                self.failures[failureKind(error), default: 0] += 1
                session.connection?.close()
            }
            self.openNext()
        }
    }

    /// Pings every held session (the pongs prove the server still holds it open).
    func pingAll() {
        for session in sessions { session.connection?.sendPing() }
    }

    func closeAll() {
        for session in sessions { session.connection?.close() }
        sessions.removeAll()
    }
}
