import HTTPEdge
import NIOCore
import NIOHTTP1

/// A responder for the edge's tests: `/hello` answers 200 and keeps the connection, `/close`
/// answers with `Connection: close`, `/early` answers at the head (before the body) with
/// `Connection: close`, `/who` answers the client address the edge derived; each at the end of
/// the request unless said otherwise.
final class TestResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPEdgeRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var pending: (path: String, info: HTTPRequestInfo)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head, let info):
            if head.uri == "/early" {
                self.answer("early", close: true, context: context)
            } else {
                self.pending = (head.uri, info)
            }
        case .body:
            break
        case .end:
            guard let (path, info) = self.pending else { return }
            self.pending = nil
            switch path {
            case "/hello": self.answer("hi", close: false, context: context)
            case "/close": self.answer("bye", close: true, context: context)
            case "/who": self.answer(info.clientAddress, close: false, context: context)
            default: self.answer("?", close: false, context: context)
            }
        }
    }

    private func answer(_ text: String, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Length", "\(text.utf8.count)")])
        if close { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// Holds every write's promise instead of completing it: a peer that stopped reading, whose
/// socket never drains.
final class StalledSocket: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    var held: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let promise = promise ?? context.eventLoop.makePromise()
        self.held.append(promise)
        context.write(data, promise: nil)
    }

    func flush(context: ChannelHandlerContext) {
        // Nothing is flushed to the wire, so nothing completes.
    }

    /// Closing the socket fails what was never written, as a real socket does.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        let held = self.held
        self.held = []
        for promise in held { promise.fail(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }
}

/// `/static` answered from memory.
struct StaticPage: HTTPStaticResponder {
    func respond(to head: HTTPRequestHead) -> HTTPStaticResponse? {
        guard head.uri == "/static" else { return nil }
        return HTTPStaticResponse(status: .ok, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: "static"))
    }
}
