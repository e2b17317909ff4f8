import Logging
import NIOCore

/// The front of a connection's pipeline when the PROXY protocol is on. A peer outside the
/// trusted networks is closed at once; a trusted peer's first bytes go through the
/// `ProxyHeaderDecoder` until it decides. A valid header starts the SMTP session (the
/// greeting goes out only now) with the client the header names, hands it the bytes that
/// followed the header, and leaves the pipeline. Anything else closes the connection
/// without a reply: the peer is a load balancer, and the client behind it sees a dropped
/// connection, which a sending MTA retries later.
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Makes the session's handler for the client (the header's source, or the connection's
    /// own peer for v1 UNKNOWN and v2 LOCAL), counting it against the connection limits.
    typealias MakeSession = (_ client: SocketAddress?, _ header: ProxyHeader, _ logger: Logger) throws -> any ChannelHandler

    private let configuration: ProxyProtocolConfiguration
    private let makeSession: MakeSession
    private var decoder: ProxyHeaderDecoder
    private var logger: Logger
    private var timer: Scheduled<Void>?
    private var started = false
    private var finished = false
    private var bytesSeen = 0

    init(configuration: ProxyProtocolConfiguration, logger: Logger, makeSession: @escaping MakeSession) {
        self.configuration = configuration
        self.makeSession = makeSession
        self.decoder = ProxyHeaderDecoder(maximumTLVBytes: configuration.maximumTLVBytes)
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        self.start(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.finished else { return }
        let bytes = self.unwrapInboundIn(data)
        self.bytesSeen += bytes.readableBytes
        self.handle(self.decoder.bytesReceived(bytes), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        if !self.finished {
            self.handle(self.decoder.inputClosed(), context: context)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed where !self.finished:
            self.handle(self.decoder.inputClosed(), context: context)
        case is SMTPServerHandler.ShutdownRequested where !self.finished:
            self.finished = true
            self.timer?.cancel()
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func start(context: ChannelHandlerContext) {
        guard !self.started else { return }
        self.started = true
        let peer = context.channel.remoteAddress
        self.logger[metadataKey: "smtp.proxy.address"] = "\(peer?.ipAddress ?? "unknown")"
        guard self.configuration.isTrusted(peer) else {
            self.finished = true
            self.logger.notice("connection refused: not from a trusted proxy (--proxy-trusted)")
            SMTPServerMetrics.proxyConnectionRefused(nil)
            context.close(promise: nil)
            return
        }
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.configuration.headerTimeout) {
            self.handle(self.decoder.timeoutFired(), context: context)
        }
    }

    private func handle(_ action: ProxyHeaderDecoder.Action, context: ChannelHandlerContext) {
        switch action {
        case .readMore:
            return
        case .reject(let error):
            self.finished = true
            self.timer?.cancel()
            // A health check that connects and closes says nothing; not worth a notice.
            let level: Logger.Level = error.kind == .truncated && self.bytesSeen == 0 ? .debug : .notice
            self.logger.log(
                level: level, "connection refused: no valid PROXY protocol header",
                metadata: ["smtp.proxy.error": "\(error.kind.rawValue)", "error": "\(error.detail)"])
            // A connection that closes without a byte (a port probe) is not counted as refused.
            if level != .debug {
                SMTPServerMetrics.proxyConnectionRefused(error)
            }
            context.close(promise: nil)
        case .accept(let header, let remainder):
            self.finished = true
            self.timer?.cancel()
            self.acceptHeader(header, remainder: remainder, context: context)
        }
    }

    private func acceptHeader(_ header: ProxyHeader, remainder: ByteBuffer, context: ChannelHandlerContext) {
        var logger = self.logger
        logger[metadataKey: "smtp.proxy.version"] = "\(header.version.rawValue)"
        let client: SocketAddress?
        if let source = header.source {
            do {
                client = try SocketAddress(packedIPAddress: ByteBuffer(bytes: source.address), port: Int(source.port))
            } catch {
                logger.notice("connection refused: unusable address in the PROXY header", metadata: ["error": "\(error)"])
                context.close(promise: nil)
                return
            }
        } else {
            client = context.channel.remoteAddress
            if case .connectionAddresses(let reason) = header.addresses {
                logger[metadataKey: "smtp.proxy.addresses"] = "\(reason.rawValue)"
            }
        }
        do {
            let session = try self.makeSession(client, header, logger)
            try context.pipeline.syncOperations.addHandler(session, position: .after(self))
        } catch {
            logger.warning("cannot start the session", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        if remainder.readableBytes > 0 {
            context.fireChannelRead(self.wrapInboundOut(remainder))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
