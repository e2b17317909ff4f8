import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A minimal SMTP client over a real socket: sends raw text, reads whole replies, and can
/// upgrade to TLS after STARTTLS.
final class SMTPTestClient {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation

        init(continuation: AsyncStream<ByteBuffer>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.continuation.yield(self.unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.continuation.finish()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.continuation.finish()
            context.close(promise: nil)
        }
    }

    struct ConnectionClosed: Error {}

    let channel: any Channel
    private let deadlineFired = NIOLockedValueBox(false)
    private var iterator: AsyncStream<ByteBuffer>.AsyncIterator
    private var received = ByteBuffer()

    init(port: Int) async throws {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        self.iterator = stream.makeAsyncIterator()
        self.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation: continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    func send(bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// One complete reply (all its lines), as sent.
    func readReply() async throws -> String {
        var reply = ""
        while true {
            let line = try await self.readLine()
            reply += line + "\r\n"
            if line.utf8.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                return reply
            }
        }
    }

    /// The code (and enhanced code) of the next reply, like "250 2.1.5" or "220".
    func readCode() async throws -> String {
        Self.code(of: try await self.readReply())
    }

    /// The code (and enhanced code) of a reply, like "250 2.1.5" or "220".
    static func code(of reply: String) -> String {
        let words = reply.split(separator: "\r\n").last!.split(separator: " ")
        if words.count > 1, words[1].contains("."), words[1].allSatisfy({ $0.isNumber || $0 == "." }) {
            return "\(words[0]) \(words[1])"
        }
        return String(words[0])
    }

    private func readLine() async throws -> String {
        while true {
            if let index = self.received.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = index - self.received.readerIndex + 1
                let line = self.received.readString(length: length)!
                return String(line.dropLast())  // "\r\n" is one Character
            }
            guard var chunk = await self.iterator.next() else { throw ConnectionClosed() }
            self.received.writeBuffer(&chunk)
        }
    }

    /// The codes of every reply until the connection closes (none for a close without a word).
    func codesUntilClosed() async -> [String] {
        var codes: [String] = []
        while let reply = try? await self.readReply() {
            codes.append(Self.code(of: reply))
        }
        return codes
    }

    /// Whether the server closed the connection (reads nothing more).
    func isClosedByServer() async -> Bool {
        guard self.received.readableBytes == 0 else { return false }
        return await self.iterator.next() == nil
    }

    /// Sends STARTTLS, expects 220, and completes a TLS handshake.
    func startTLS(
        minimumVersion: TLSVersion = .tlsv12, maximumVersion: TLSVersion? = nil
    ) async throws -> String {
        try await self.send("STARTTLS\r\n")
        let code = try await self.readCode()
        guard code == "220 2.0.0" else { return code }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.minimumTLSVersion = minimumVersion
        configuration.maximumTLSVersion = maximumVersion
        let context = try NIOSSLContext(configuration: configuration)
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: nil), position: .first)
        }.get()
        return code
    }

    /// Closes the connection after `timeout` unless it closed before: a bound on any read.
    func closeAfter(_ timeout: TimeAmount) {
        let channel = self.channel
        let fired = self.deadlineFired
        let scheduled = channel.eventLoop.scheduleTask(in: timeout) {
            fired.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in scheduled.cancel() }
    }

    /// Whether `closeAfter` had to close the connection: the server left it open that long.
    var closedByDeadline: Bool {
        self.deadlineFired.withLockedValue { $0 }
    }

    func close() async {
        try? await self.channel.close()
    }
}
