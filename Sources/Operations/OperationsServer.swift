import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import ServiceLifecycle

/// What the status page reads beyond the activity log, supplied by whoever knows the backends.
public struct StatusSources: Sendable {
    /// The dead-letter queue, or nil when this process cannot list it.
    public var deadLetters: (@Sendable () async throws -> DeadLetterList)?
    /// A stored message by id (nil: no such message), for downloads and older history.
    public var storedMessage: (@Sendable (String) async throws -> StoredMessage?)?

    public init(
        deadLetters: (@Sendable () async throws -> DeadLetterList)? = nil,
        storedMessage: (@Sendable (String) async throws -> StoredMessage?)? = nil
    ) {
        self.deadLetters = deadLetters
        self.storedMessage = storedMessage
    }
}

/// `GET /api/dead-letters`.
public struct DeadLetterList: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public var queueMessageId: String
        /// The stored message's id, when the notification names one.
        public var messageId: String?
        public var receiveCount: Int
        public var deadLetteredAt: Date?
        public var reason: String

        public init(queueMessageId: String, messageId: String?, receiveCount: Int, deadLetteredAt: Date?, reason: String) {
            self.queueMessageId = queueMessageId
            self.messageId = messageId
            self.receiveCount = receiveCount
            self.deadLetteredAt = deadLetteredAt
            self.reason = reason
        }
    }

    public var note: String?
    public var deadLetters: [Entry]

    public init(note: String? = nil, deadLetters: [Entry]) {
        self.note = note
        self.deadLetters = deadLetters
    }
}

/// A stored message: its bytes and its envelope metadata.
public struct StoredMessage: Sendable {
    public var bytes: [UInt8]
    public var metadata: [String: String]

    public init(bytes: [UInt8], metadata: [String: String]) {
        self.bytes = bytes
        self.metadata = metadata
    }
}

/// The HTTP side port as a `Service`: `/healthz`, `/readyz`, `/metrics`, and the status page
/// with its JSON API, behind the `HTTPAccessPolicy`.
public struct OperationsServer: Service {
    /// The side port could not listen on an address that was asked for.
    public struct ListenError: Error, CustomStringConvertible {
        public var address: String
        public var underlying: any Error
        public var description: String { "the HTTP side port cannot listen on \(self.address): \(self.underlying)" }
    }

    private let application: Application<RouterResponder<BasicRequestContext>>
    private let configuration: OperationsConfiguration
    private let logger: Logger
    private let started: NIOLockedValueBox<Bool>
    private let onServerRunning: @Sendable (SocketAddress?) async -> Void

    /// - Parameter onServerRunning: called with the bound address (tests and the start-up line
    ///   learn the port here), or with nil when the default address was taken and the process
    ///   goes on without the side port.
    public init(
        configuration: OperationsConfiguration, policy: HTTPAccessPolicy, registry: PrometheusCollectorRegistry,
        readiness: ReadinessMonitor, activity: ActivityLog, sources: StatusSources, logger: Logger,
        onServerRunning: @escaping @Sendable (SocketAddress?) async -> Void = { _ in }
    ) {
        let started = NIOLockedValueBox(false)
        self.started = started
        self.configuration = configuration
        self.onServerRunning = onServerRunning
        let router = Router()
        router.add(middleware: AccessMiddleware(policy: policy))
        router.get("/healthz") { _, _ in
            Self.json(#"{"status":"ok"}"#)
        }
        router.get("/readyz") { _, _ in
            let report = readiness.report
            return Self.json(try Self.encode(report), status: report.isReady ? .ok : .serviceUnavailable)
        }
        router.get("/api/readiness") { _, _ in
            Self.json(try Self.encode(readiness.report))
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    // Nothing but this origin: the page works, and is tested, with no internet.
                    .contentSecurityPolicy: "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
                    .cacheControl: "no-store",
                ],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html)))
        }
        router.get("/api/activity") { request, _ in
            let limit = request.uri.queryParameters.get("limit", as: Int.self).map { min(max($0, 0), configuration.statusMessages) }
            return Self.json(try Self.encode(activity.snapshot(limit: limit ?? configuration.statusMessages)))
        }
        router.get("/api/dead-letters") { _, _ in
            guard let list = sources.deadLetters else {
                return Self.json(try Self.encode(DeadLetterList(note: "This process has no dead-letter queue to list.", deadLetters: [])))
            }
            do {
                // One deadline for the whole listing (SQS: GetQueueAttributes and a few peeks).
                return Self.json(try Self.encode(try await Deadline.run(within: configuration.probeTimeout) { try await list() }))
            } catch {
                return Self.json(try Self.encode(DeadLetterList(note: "The dead-letter queue could not be read: \(error)", deadLetters: [])))
            }
        }
        router.get("/api/messages/:id") { _, context in
            let id = try Self.messageId(context)
            guard let message = try await Self.stored(id, sources: sources) else { return Self.notFound(id) }
            return Self.json(try Self.encode(["messageId": id, "size": String(message.bytes.count)].merging(message.metadata) { a, _ in a }))
        }
        router.get("/api/messages/:id/raw") { _, context in
            let id = try Self.messageId(context)
            guard let message = try await Self.stored(id, sources: sources) else { return Self.notFound(id) }
            return Response(
                status: .ok,
                headers: [.contentType: "message/rfc822", .contentDisposition: "attachment; filename=\"\(id).eml\""],
                body: .init(byteBuffer: ByteBuffer(bytes: message.bytes)))
        }
        var logger = logger
        logger[metadataKey: "ops.http"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
        self.application = Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        HTTPRequestDeadlineHandler(timeout: .seconds(configuration.requestTimeout.components.seconds))
                    ],
                    idleTimeout: .seconds(configuration.idleTimeout.components.seconds))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maximumConnections)),
            onServerRunning: { channel in
                started.withLockedValue { $0 = true }
                await onServerRunning(channel.localAddress)
            },
            logger: logger)
    }

    public func run() async throws {
        do {
            try await self.application.run()
        } catch {
            guard !self.started.withLockedValue({ $0 }) else { throw error }
            let address = "\(self.configuration.host):\(self.configuration.port)"
            guard self.configuration.listenAddressIsDefault else { throw ListenError(address: address, underlying: error) }
            // Another process (a second cis on the host) has the default port: mail goes on without the side port.
            self.logger.warning(
                "HTTP side port not started: the default address is taken; set --http-listen to serve it elsewhere",
                metadata: ["error": "\(error)"])
            await self.onServerRunning(nil)
            try? await gracefulShutdown()
        }
    }

    /// Stored message ids are the drop box's (letters, digits, `-`, `_`); nothing else reaches the store.
    static func isValidMessageId(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }

    private static func messageId(_ context: BasicRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), Self.isValidMessageId(id) else {
            throw HTTPError(.badRequest, message: "a message id is letters, digits, '-' and '_', at most 64")
        }
        return id
    }

    private static func stored(_ id: String, sources: StatusSources) async throws -> StoredMessage? {
        guard let read = sources.storedMessage else {
            throw HTTPError(.notFound, message: "this process does not read the object store")
        }
        return try await read(id)
    }

    private static func notFound(_ id: String) -> Response {
        Self.json(#"{"error":"no stored message \#(id)"}"#, status: .notFound)
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Refuses what the policy does not allow with 401 and a line saying what to send.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: HTTPAccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])
        }
        let allowed = self.policy.allows(
            path: request.uri.path, authorization: request.headers[.authorization],
            queryToken: request.uri.queryParameters.get("token"))
        guard allowed else {
            return Response(
                status: .unauthorized,
                headers: [.wwwAuthenticate: #"Bearer realm="cis""#, .contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(
                    string: "This page needs the token (--http-token): send 'Authorization: Bearer <token>', or open it as /?token=<token>.\n")))
        }
        return try await next(request, context)
    }
}
