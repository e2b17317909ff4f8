import Foundation
import Logging
import NIOCore
import NIOSSL
import SMTPCore
import SMTPServer
import ServiceLifecycle
import TestSupport
import Testing

/// Runs the real `SMTPServer` on 127.0.0.1 port 0 in a `ServiceGroup`, hands the port to
/// `body`, then shuts the group down gracefully.
func withRunningServer(
    sink: any MessageSink,
    configure: (inout SMTPServerConfiguration) -> Void = { _ in },
    _ body: (_ port: Int, _ group: ServiceGroup) async throws -> Void
) async throws {
    let spool = try TemporaryDirectory(prefix: "cis-spool")
    defer { withExtendedLifetime(spool) {} }  // removed only once the server has stopped
    var configuration = SMTPServerConfiguration(host: "127.0.0.1", port: 0, hostname: "mx.test", spoolDirectory: spool.path)
    configure(&configuration)
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let server = SMTPServer(
        configuration: configuration, sink: sink, logger: Logger(label: "smtp-test"),
        onServerRunning: { address in
            portContinuation.yield(address.port ?? 0)
            portContinuation.finish()
        })
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [.init(service: server)], logger: Logger(label: "smtp-test-group")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var portIterator = ports.makeAsyncIterator()
        let port = try #require(await portIterator.next())
        do {
            try await body(port, group)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

@Suite(.timeLimit(.minutes(1))) struct SMTPServerTests {
    @Test(arguments: [false, true])
    func deliversAMessageOverLoopback(direct: Bool) async throws {
        let sink = RecordingSink(direct: direct)
        try await withRunningServer(sink: sink) { port, _ in
            let client = try await SMTPTestClient(port: port)
            let greeting = try await client.readReply()
            #expect(greeting == "220 mx.test ESMTP\r\n")
            // Pipelined in one packet, as RFC 2920 allows.
            try await client.send(
                "EHLO client.example\r\nMAIL FROM:<organizer@example.com> SIZE=40\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
            #expect(try await client.readCode() == "250")
            #expect(try await client.readCode() == "250 2.1.0")
            #expect(try await client.readCode() == "250 2.1.5")
            #expect(try await client.readCode() == "354")
            try await client.send("Subject: invite\r\n\r\nBEGIN:VCALENDAR\r\n.\r\nQUIT\r\n")
            let queued = try await client.readReply()
            #expect(queued == "250 2.0.0 Ok: queued as test1\r\n")
            #expect(try await client.readCode() == "221 2.0.0")
            #expect(await client.isClosedByServer())
        }
        let delivery = try #require(sink.deliveries.first)
        #expect(sink.deliveries.count == 1)
        #expect(String(decoding: delivery.text, as: UTF8.self) == "Subject: invite\r\n\r\nBEGIN:VCALENDAR\r\n")
        #expect(delivery.envelope.mailFrom == "organizer@example.com")
        #expect(delivery.envelope.recipients == ["create@localhost"])
        #expect(delivery.envelope.clientAddress == "127.0.0.1")
        #expect(!delivery.envelope.tls)
        #expect(delivery.spoolPath == nil)
        #expect(sink.submitted == (direct ? 1 : 0))
    }

    @Test(arguments: [false, true])
    func twoMessagesPipelinedInOnePacket(direct: Bool) async throws {
        let sink = RecordingSink(direct: direct)
        try await withRunningServer(sink: sink) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
            for _ in 0..<4 { _ = try await client.readReply() }
            try await client.send(
                "one\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n")
            #expect(try await client.readCode() == "250 2.0.0")
            #expect(try await client.readCode() == "250 2.1.0")
            #expect(try await client.readCode() == "250 2.1.5")
            #expect(try await client.readCode() == "354")
            #expect(try await client.readCode() == "250 2.0.0")
            #expect(try await client.readCode() == "221 2.0.0")
        }
        #expect(sink.deliveries.map { String(decoding: $0.text, as: UTF8.self) } == ["one\r\n", "two\r\n"])
        #expect(sink.submitted == (direct ? 2 : 0))
    }

    /// Over the spool threshold a message goes to the async side, which spools it, also when
    /// the sink delivers directly (the text held so far goes first).
    @Test(arguments: [false, true])
    func largeMessagesAreSpooledAndTheSpoolFileRemoved(direct: Bool) async throws {
        let sink = RecordingSink(direct: direct)
        let line = String(repeating: "x", count: 998) + "\r\n"
        let body = String(repeating: line, count: 1500)  // 1.5 MB
        try await withRunningServer(sink: sink, configure: { $0.maximumMessageSize = 4 << 20 }) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
            for _ in 0..<4 { _ = try await client.readReply() }
            try await client.send(body + ".\r\n")
            #expect(try await client.readCode() == "250 2.0.0")
        }
        let delivery = try #require(sink.deliveries.first)
        #expect(delivery.text.count == body.utf8.count)
        #expect(delivery.text == Array(body.utf8))
        let spoolPath = try #require(delivery.spoolPath)
        #expect(!FileManager.default.fileExists(atPath: spoolPath))
        #expect(sink.submitted == 0)
    }

    @Test(arguments: [false, true])
    func sinkFailureIs451(direct: Bool) async throws {
        let sink = RecordingSink(direct: direct)
        sink.setFails(true)
        try await withRunningServer(sink: sink) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nx\r\n.\r\n")
            for _ in 0..<4 { _ = try await client.readReply() }
            #expect(try await client.readCode() == "451 4.3.0")
        }
        #expect(sink.submitted == (direct ? 1 : 0))
    }

    @Test func startTLSUpgradesAndResetsTheSession() async throws {
        let certificate = try TestCertificate.shared.get()
        let context = try SMTPTLS.makeServerContext(
            certificatePath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath)
        let sink = RecordingSink()
        try await withRunningServer(sink: sink, configure: { $0.tlsContext = context; $0.requireTLS = true }) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            try await client.send("EHLO c\r\n")
            let extensions = try await client.readReply()
            #expect(extensions.contains("250 STARTTLS\r\n"))
            try await client.send("MAIL FROM:<a@b.example>\r\n")
            #expect(try await client.readCode() == "530 5.7.0")
            #expect(try await client.startTLS() == "220 2.0.0")
            try await client.send("MAIL FROM:<a@b.example>\r\n")
            #expect(try await client.readCode() == "503 5.5.1")
            try await client.send("EHLO c\r\n")
            #expect(!(try await client.readReply().contains("STARTTLS")))
            try await client.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<create@localhost>\r\nDATA\r\n")
            for _ in 0..<3 { _ = try await client.readReply() }
            try await client.send("secure\r\n.\r\n")
            #expect(try await client.readCode() == "250 2.0.0")
        }
        #expect(sink.deliveries.first?.envelope.tls == true)
    }

    @Test func tlsOlderThan12IsRefused() async throws {
        let certificate = try TestCertificate.shared.get()
        let context = try SMTPTLS.makeServerContext(
            certificatePath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath)
        try await withRunningServer(sink: RecordingSink(), configure: { $0.tlsContext = context }) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            try await client.send("EHLO c\r\n")
            _ = try await client.readReply()
            #expect(try await client.startTLS(minimumVersion: .tlsv1, maximumVersion: .tlsv11) == "220 2.0.0")
            try? await client.send("NOOP\r\n")
            await #expect(throws: (any Error).self) { try await client.readReply() }
        }
    }

    @Test func perAddressConnectionLimit() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: { $0.maximumConnectionsPerAddress = 2 }) { port, _ in
            let first = try await SMTPTestClient(port: port)
            let second = try await SMTPTestClient(port: port)
            #expect(try await first.readCode() == "220")
            #expect(try await second.readCode() == "220")
            let third = try await SMTPTestClient(port: port)
            #expect(try await third.readCode() == "421 4.7.0")
            #expect(await third.isClosedByServer())
            // A closed connection frees its place.
            try await first.send("QUIT\r\n")
            _ = try await first.readReply()
            #expect(await first.isClosedByServer())
            var admitted = false
            for _ in 0..<50 where !admitted {
                let next = try await SMTPTestClient(port: port)
                admitted = try await next.readCode() == "220"
                await next.close()
                if !admitted { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(admitted)
            await second.close()
        }
    }

    @Test func totalConnectionLimit() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: { $0.maximumConnections = 1 }) { port, _ in
            let first = try await SMTPTestClient(port: port)
            #expect(try await first.readCode() == "220")
            let second = try await SMTPTestClient(port: port)
            let refusal = try await second.readReply()
            #expect(refusal == "421 4.7.0 mx.test Error: too many connections\r\n")
            await first.close()
        }
    }

    @Test func idleTimeout() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: { $0.commandTimeout = .milliseconds(300) }) { port, _ in
            let client = try await SMTPTestClient(port: port)
            _ = try await client.readReply()
            #expect(try await client.readCode() == "421 4.4.2")
            #expect(await client.isClosedByServer())
        }
    }

    @Test(arguments: [false, true])
    func gracefulShutdownFinishesDataInFlightAndTellsIdleSessions421(direct: Bool) async throws {
        let sink = RecordingSink(direct: direct)
        sink.hold()
        try await withRunningServer(sink: sink) { port, group in
            let idle = try await SMTPTestClient(port: port)
            _ = try await idle.readReply()
            let busy = try await Self.messageInFlight(port: port, sink: sink)
            await group.triggerGracefulShutdown()
            #expect(try await idle.readCode() == "421 4.3.2")
            #expect(await idle.isClosedByServer())
            // New connections are no longer accepted.
            var refused = false
            for _ in 0..<50 where !refused {
                do {
                    let late = try await SMTPTestClient(port: port)
                    refused = (try? await late.readReply()) == nil
                } catch {
                    refused = true
                }
                if !refused { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(refused)
            sink.release()
            #expect(try await busy.readCode() == "250 2.0.0")
            #expect(try await busy.readCode() == "421 4.3.2")
        }
        #expect(sink.deliveries.count == 1)
        #expect(sink.submitted == (direct ? 1 : 0))
    }

    /// Connections keep arriving while the server shuts down with a message in flight: each is
    /// refused, or is closed by the server after at most its greeting and a 421 (or the 221 it
    /// asked for; one accepted while the listener closes may get no reply at all); none is left
    /// open; and the message in flight is still stored and answered 250.
    @Test func connectionsArrivingDuringShutdown() async throws {
        let sink = RecordingSink()
        sink.hold()
        try await withRunningServer(sink: sink, configure: { $0.maximumConnectionsPerAddress = 100 }) { port, group in
            let busy = try await Self.messageInFlight(port: port, sink: sink)

            let (greeted, greetedContinuation) = AsyncStream<Void>.makeStream()
            let arrivals = try await withThrowingTaskGroup(of: [Arrival].self) { clients in
                // Idle clients stay connected until the server closes them, then come straight back;
                // the others connect, QUIT and come back, so that arrivals span the whole shutdown.
                for index in 0..<Self.arrivingClients {
                    clients.addTask {
                        await Self.arriveUntilRefused(
                            port: port, quit: index >= Self.idleClients, greeted: greetedContinuation)
                    }
                }
                var greetings = greeted.makeAsyncIterator()
                for _ in 0..<Self.arrivingClients { await greetings.next() }
                try await Task.sleep(for: .milliseconds(100))  // the QUIT clients come and go meanwhile
                await group.triggerGracefulShutdown()
                // Once the listener is closed, the message in flight may finish.
                var refused = false
                for _ in 0..<500 where !refused {
                    if let probe = try? await SMTPTestClient(port: port) {
                        await probe.close()
                        try await Task.sleep(for: .milliseconds(10))
                    } else {
                        refused = true
                    }
                }
                try #require(refused, "the listener still accepts connections after shutdown")
                sink.release()
                #expect((try? await busy.readCode()) == "250 2.0.0", "the message in flight is answered")
                #expect((try? await busy.readCode()) == "421 4.3.2", "then the session is closed with 421")
                return try await clients.reduce(into: []) { $0 += $1 }
            }
            for arrival in arrivals {
                switch arrival {
                case .refused:
                    break
                case .closed(let codes, let quit):
                    let allowed: Set<String> = quit ? ["220", "221 2.0.0", "421 4.3.2"] : ["220", "421 4.3.2"]
                    #expect(codes.allSatisfy(allowed.contains), "unexpected replies \(codes)")
                    #expect(codes.dropFirst().allSatisfy { $0 != "220" }, "greeted twice: \(codes)")
                case .leftOpen(let codes):
                    Issue.record("a connection was left open after \(codes) until the client gave up")
                }
            }
            let refused = arrivals.filter { $0 == .refused }.count
            #expect(refused == Self.arrivingClients, "every client ends refused")
            let idleToldShutdown = arrivals.contains(.closed(codes: ["220", "421 4.3.2"], quit: false))
            #expect(idleToldShutdown, "idle sessions are told 421")
        }
        #expect(sink.deliveries.count == 1)
    }

    /// A client whose message the (holding) sink has started to deliver; it gives up after 10 s.
    private static func messageInFlight(port: Int, sink: RecordingSink) async throws -> SMTPTestClient {
        let client = try await SMTPTestClient(port: port)
        client.closeAfter(.seconds(10))
        _ = try await client.readReply()
        try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nin flight\r\n.\r\n")
        for _ in 0..<4 { _ = try await client.readReply() }
        await sink.waitForDeliveryStart()
        return client
    }

    /// Clients connecting during shutdown; the first `idleClients` wait, the others QUIT.
    private static let arrivingClients = 16
    private static let idleClients = 4

    private enum Arrival: Equatable, Sendable {
        case refused
        /// Closed by the server after these reply codes.
        case closed(codes: [String], quit: Bool)
        /// Still open when the client gave up.
        case leftOpen(codes: [String])
    }

    /// Connects again and again until the connection is refused.
    private static func arriveUntilRefused(
        port: Int, quit: Bool, greeted: AsyncStream<Void>.Continuation
    ) async -> [Arrival] {
        var arrivals: [Arrival] = []
        for attempt in 0..<1000 where !Task.isCancelled {
            guard let client = try? await SMTPTestClient(port: port) else {
                arrivals.append(.refused)
                break
            }
            client.closeAfter(.seconds(10))
            var codes: [String] = []
            if attempt == 0 {
                // Connected and greeted before the test starts the shutdown.
                codes += [try? await client.readCode()].compactMap { $0 }
                greeted.yield()
            }
            if quit {
                try? await client.send("QUIT\r\n")
            }
            codes += await client.codesUntilClosed()
            arrivals.append(client.closedByDeadline ? .leftOpen(codes: codes) : .closed(codes: codes, quit: quit))
        }
        return arrivals
    }

    @Test func portInUseIsABindError() async throws {
        try await withRunningServer(sink: RecordingSink()) { port, _ in
            let spool = try TemporaryDirectory(prefix: "cis-spool")
            let second = SMTPServer(
                configuration: SMTPServerConfiguration(host: "127.0.0.1", port: port, hostname: "mx.test", spoolDirectory: spool.path),
                sink: RecordingSink(), logger: Logger(label: "test"))
            let error = try await #require(throws: SMTPServerError.self) { try await second.run() }
            #expect(error.kind == .bindFailed)
        }
    }
}
