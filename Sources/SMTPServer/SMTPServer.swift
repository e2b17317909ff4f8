import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SMTPCore
import ServiceLifecycle

/// The SMTP listener as a `Service`: binds, accepts connections (within the connection
/// limits), runs one session per connection, and on graceful shutdown stops accepting,
/// tells idle sessions 421, and lets a message in flight finish.
public final class SMTPServer: Service, Sendable {
    public let configuration: SMTPServerConfiguration
    private let sink: any MessageSink
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onServerRunning: @Sendable (SocketAddress) async -> Void
    private let limiter: ConnectionLimiter
    private let registry = ChannelRegistry()
    /// Set by `bind()` before `run()`.
    private let boundListener = NIOLockedValueBox<Listener?>(nil)
    /// What a reload (SIGHUP) replaces for the connections accepted after it.
    private let reloadable: NIOLockedValueBox<Reloadable>

    private struct Reloadable: Sendable {
        var tlsContext: NIOSSLContext?
        var session: SessionConfiguration
    }

    private typealias Listener = NIOAsyncChannel<SMTPConnection.Channel, Never>

    /// - Parameter onServerRunning: called with the bound address once the server accepts
    ///   connections (tests bind port 0 and learn the port here).
    public init(
        configuration: SMTPServerConfiguration,
        sink: any MessageSink,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onServerRunning: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.sink = sink
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.onServerRunning = onServerRunning
        self.reloadable = NIOLockedValueBox(Reloadable(tlsContext: configuration.tlsContext, session: configuration.session))
        self.limiter = ConnectionLimiter(
            ConnectionLimiter.Limits(
                maximumConnections: configuration.maximumConnections,
                maximumConnectionsPerNetwork: configuration.maximumConnectionsPerAddress,
                maximumConnectionRate: configuration.maximumConnectionRate,
                prefixes: .init(ipv4: configuration.clientIPv4Prefix, ipv6: configuration.clientIPv6Prefix)))
    }

    /// New sessions use this certificate and key; sessions already in TLS keep theirs.
    /// STARTTLS can be replaced, not turned on or off: the listener was started with or without it.
    public func replaceTLSContext(_ context: NIOSSLContext) {
        self.reloadable.withLockedValue { $0.tlsContext = context }
    }

    /// New sessions accept these recipients.
    public func replaceRecipients(_ recipients: [String]) {
        self.reloadable.withLockedValue { reloadable in
            var configuration = self.configuration
            configuration.recipients = recipients
            configuration.tlsContext = reloadable.tlsContext
            reloadable.session = configuration.session
        }
    }

    /// Binds the listen address now, so that a start-up failure (address in use) shows
    /// before anything else runs. `run()` binds by itself when this was not called.
    @discardableResult
    public func bind() async throws -> SocketAddress? {
        try self.prepareSpoolDirectory()
        let listener = try await self.bindListener()
        self.boundListener.withLockedValue { $0 = listener }
        return listener.channel.localAddress
    }

    public func run() async throws {
        let serverChannel: Listener
        if let listener = self.boundListener.withLockedValue({ $0.take() }) {
            serverChannel = listener
        } else {
            try self.prepareSpoolDirectory()
            serverChannel = try await self.bindListener()
        }
        let address = serverChannel.channel.localAddress
        self.logger.info(
            "listening",
            metadata: [
                "smtp.listen.address": "\(address?.ipAddress ?? self.configuration.host)",
                "smtp.listen.port": "\(address?.port ?? self.configuration.port)",
                "smtp.tls.available": "\(self.configuration.tlsContext != nil)",
            ])
        if let address {
            await self.onServerRunning(address)
        }

        let connection = SMTPConnection(
            sink: self.sink, spoolDirectory: self.configuration.spoolDirectory,
            spoolThreshold: self.configuration.spoolThreshold, logger: self.logger)
        try await withGracefulShutdownHandler {
            try await serverChannel.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await channel in inbound {
                            group.addTask {
                                await Self.serve(channel, with: connection)
                            }
                        }
                    } catch {
                        self.logger.debug("accept loop ended", metadata: ["error": "\(error)"])
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no longer accepting connections")
            serverChannel.channel.close(promise: nil)
        }
        // Connections accepted while the listener closed never reached the loop above.
        for channel in self.registry.openChannels {
            channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownRequested())
            channel.close(promise: nil)
        }
        self.logger.info("stopped")
    }

    private static func serve(_ channel: SMTPConnection.Channel, with connection: SMTPConnection) async {
        await withGracefulShutdownHandler {
            await connection.run(channel)
        } onGracefulShutdown: {
            channel.channel.pipeline.fireUserInboundEventTriggered(SMTPServerHandler.ShutdownRequested())
        }
    }

    private func bindListener() async throws -> Listener {
        let configuration = self.configuration
        let limiter = self.limiter
        let registry = self.registry
        let logger = self.logger
        let reloadable = self.reloadable
        let directDelivery = SMTPServerHandler.DirectDelivery(self.sink, memoryLimit: configuration.spoolThreshold)
        // Reading stops once this much output waits for the socket: half the reply allowance,
        // and never more than 32 KiB, however large the allowance.
        let stopReadingAt = min(configuration.maximumPendingReplyBytes / 2, 32 * 1024)
        do {
            // The async bind puts NIO's `AcceptBackoffHandler` on the listener: when accept(2)
            // fails for want of file descriptors it pauses accepting for a second instead of
            // spinning or ending the accept loop.
            return try await ServerBootstrap(group: self.eventLoopGroup)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelOption(Self.tcpOption(TCP_KEEPIDLE), value: SocketOptionValue(configuration.tcpKeepaliveIdle))
                .childChannelOption(Self.tcpOption(TCP_KEEPINTVL), value: SocketOptionValue(SMTPServerConfiguration.keepaliveInterval.nanoseconds / 1_000_000_000))
                .childChannelOption(Self.tcpOption(TCP_KEEPCNT), value: SocketOptionValue(SMTPServerConfiguration.keepaliveProbes))
                .childChannelOption(
                    .writeBufferWaterMark, value: .init(low: stopReadingAt / 2, high: stopReadingAt))
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        var configuration = configuration
                        let current = reloadable.withLockedValue { $0 }
                        configuration.tlsContext = current.tlsContext
                        return try Self.configure(
                            channel, configuration: configuration, session: current.session, limiter: limiter,
                            registry: registry, directDelivery: directDelivery, logger: logger)
                    }
                }
        } catch let error as IOError {
            throw SMTPServerError(.bindFailed, "cannot listen: \(String(cString: strerror(error.errnoCode)))")
        } catch {
            throw SMTPServerError(.bindFailed, "cannot listen: \(error)")
        }
    }

    private static func tcpOption(_ name: Int32) -> ChannelOptions.Types.SocketOption {
        ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(name)))
    }

    /// Sets up one accepted connection; runs on its event loop. With the PROXY protocol on,
    /// the session starts only once the header named the client.
    private static func configure(
        _ channel: any Channel, configuration: SMTPServerConfiguration, session: SessionConfiguration,
        limiter: ConnectionLimiter, registry: ChannelRegistry, directDelivery: SMTPServerHandler.DirectDelivery?, logger: Logger
    ) throws -> SMTPConnection.Channel {
        registry.add(channel)
        if let proxyProtocol = configuration.proxyProtocol {
            let handler = ProxyProtocolHandler(configuration: proxyProtocol, logger: logger) { client, _, logger in
                Self.makeSessionHandler(
                    channel, client: client, configuration: configuration, session: session, limiter: limiter,
                    directDelivery: directDelivery, logger: logger)
            }
            try channel.pipeline.syncOperations.addHandler(handler)
        } else {
            try channel.pipeline.syncOperations.addHandler(
                Self.makeSessionHandler(
                    channel, client: channel.remoteAddress, configuration: configuration, session: session,
                    limiter: limiter, directDelivery: directDelivery, logger: logger))
        }
        // A connection accepted while the listener closes (graceful shutdown) never reaches
        // the accept loop. Close-on-deinit makes that a closed socket; the explicit-teardown
        // initialiser (`wrappingChannelSynchronously`) traps on it instead.
        return try SMTPConnection.Channel(synchronouslyWrapping: channel)
    }

    /// The session of one client, counted against the connection limits by its address (the
    /// socket's peer, or the one a PROXY header named).
    private static func makeSessionHandler(
        _ channel: any Channel, client: SocketAddress?, configuration: SMTPServerConfiguration,
        session: SessionConfiguration, limiter: ConnectionLimiter, directDelivery: SMTPServerHandler.DirectDelivery?,
        logger: Logger
    ) -> SMTPServerHandler {
        let network = limiter.network(of: client)
        let admission = limiter.admit(network)
        if admission == .admitted {
            channel.closeFuture.whenComplete { _ in limiter.release(network) }
        }
        return SMTPServerHandler(
            configuration: session, admission: admission, clientAddress: client?.ipAddress ?? "unknown",
            clientPort: client?.port ?? 0, clientNetwork: network,
            deadlines: SMTPServerHandler.Deadlines(configuration),
            tlsContext: configuration.tlsContext, directDelivery: directDelivery, logger: logger)
    }

    private func prepareSpoolDirectory() throws {
        let directory = self.configuration.spoolDirectory
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SMTPServerError(.spoolDirectoryUnusable, "cannot create spool directory \(directory): \(error)")
        }
        SpoolFile.removeLeftovers(in: directory)
    }
}
