import NIOCore
import NIOHTTPTypes

/// Closes an HTTP side-port connection whose next request has not arrived whole within
/// `timeout` of the connection opening or of the last response's end.
///
/// Hummingbird's idle timeout counts only silence, so a client that sends a request one byte at a
/// time keeps its connection (one of `--http-max-connections`) for as long as it likes; this puts a
/// deadline on the request itself. While a request is being answered the clock is stopped.
final class HTTPRequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// Requests read whole and not yet answered whole.
    private var requestsBeingAnswered = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.startClock(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.stopClock()
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startClock(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stopClock()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = self.unwrapInboundIn(data) {
            self.requestsBeingAnswered += 1
            self.stopClock()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) {
            self.requestsBeingAnswered = max(0, self.requestsBeingAnswered - 1)
            if self.requestsBeingAnswered == 0 { self.startClock(context) }
        }
        context.write(data, promise: promise)
    }

    private func startClock(_ context: ChannelHandlerContext) {
        self.stopClock()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.deadline = context.eventLoop.scheduleTask(in: self.timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func stopClock() {
        self.deadline?.cancel()
        self.deadline = nil
    }
}
