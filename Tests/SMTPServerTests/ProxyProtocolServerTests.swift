import Foundation
import NIOCore
import SMTPCore
import SMTPServer
import Testing

/// The listener with `proxyProtocol` set, over loopback: the session starts only after a
/// valid header, and the header's client is the one the session, the limits and the
/// delivered envelope see.
@Suite(.timeLimit(.minutes(1))) struct ProxyProtocolServerTests {
    private static func trusting(_ networks: String...) -> (inout SMTPServerConfiguration) -> Void {
        { configuration in
            configuration.proxyProtocol = ProxyProtocolConfiguration(
                trustedNetworks: networks.map { try! ProxyNetwork.parse($0) }, headerTimeout: .seconds(3))
        }
    }

    @Test func theHeadersClientReachesTheEnvelope() async throws {
        let sink = RecordingSink()
        try await withRunningServer(sink: sink, configure: Self.trusting("127.0.0.0/8")) { port, _ in
            let client = try await SMTPTestClient(port: port)
            // The header and the first command in one packet, as haproxy may send them.
            try await client.send("PROXY TCP4 192.0.2.7 198.51.100.1 40001 25\r\nEHLO client.example\r\n")
            #expect(try await client.readCode() == "220")
            #expect(try await client.readCode() == "250")
            try await client.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
            #expect(await client.codesUntilClosed() == ["250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"])
        }
        let delivery = try #require(sink.deliveries.first)
        #expect(delivery.envelope.clientAddress == "192.0.2.7")
        #expect(delivery.envelope.clientPort == 40001)
    }

    @Test func v2AndIPv6() async throws {
        let sink = RecordingSink()
        try await withRunningServer(sink: sink, configure: Self.trusting("127.0.0.1")) { port, _ in
            let client = try await SMTPTestClient(port: port)
            let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [7]
            let header: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x21, 0x00, 36]
                + source + [UInt8](repeating: 0, count: 15) + [1] + [0x9C, 0x41, 0x00, 0x19]
            try await client.send(bytes: header)
            #expect(try await client.readCode() == "220")
            try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
            #expect(await client.codesUntilClosed() == ["250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"])
        }
        let delivery = try #require(sink.deliveries.first)
        #expect(delivery.envelope.clientAddress == "2001:db8::7")
        #expect(delivery.envelope.clientPort == 40001)
    }

    @Test func localAndUnknownUseTheConnectionsAddress() async throws {
        let sink = RecordingSink()
        try await withRunningServer(sink: sink, configure: Self.trusting("127.0.0.0/8")) { port, _ in
            for header in [Array("PROXY UNKNOWN\r\n".utf8), [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00]] {
                let client = try await SMTPTestClient(port: port)
                try await client.send(bytes: header)
                #expect(try await client.readCode() == "220")
                try await client.send("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<create@localhost>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
                #expect(await client.codesUntilClosed() == ["250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"])
            }
        }
        #expect(sink.deliveries.map(\.envelope.clientAddress) == ["127.0.0.1", "127.0.0.1"])
    }

    @Test func nothingIsSaidBeforeTheHeaderAndPlainSMTPIsDropped() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: Self.trusting("127.0.0.0/8")) { port, _ in
            let client = try await SMTPTestClient(port: port)
            try await client.send("EHLO client.example\r\n")
            // Closed without a greeting or any reply.
            #expect(await client.codesUntilClosed() == [])
        }
    }

    @Test func anUntrustedPeerIsClosedWithoutAWord() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: Self.trusting("192.0.2.0/24", "::1")) { port, _ in
            let client = try await SMTPTestClient(port: port)
            try? await client.send("PROXY TCP4 192.0.2.7 198.51.100.1 40001 25\r\nEHLO c\r\n")
            #expect(await client.codesUntilClosed() == [])
        }
    }

    @Test func aHeaderThatNeverCompletesTimesOut() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: { configuration in
            configuration.proxyProtocol = ProxyProtocolConfiguration(
                trustedNetworks: [try! ProxyNetwork.parse("127.0.0.1")], headerTimeout: .milliseconds(300))
        }) { port, _ in
            let client = try await SMTPTestClient(port: port)
            client.closeAfter(.seconds(20))
            try await client.send("PROXY TCP4 192.0.2.7")
            #expect(await client.codesUntilClosed() == [])
            #expect(!client.closedByDeadline)
        }
    }

    @Test func perClientLimitsCountTheHeadersClient() async throws {
        try await withRunningServer(sink: RecordingSink(), configure: { configuration in
            Self.trusting("127.0.0.0/8")(&configuration)
            configuration.maximumConnectionsPerAddress = 1
        }) { port, _ in
            let first = try await SMTPTestClient(port: port)
            try await first.send("PROXY TCP4 192.0.2.7 198.51.100.1 40001 25\r\n")
            #expect(try await first.readCode() == "220")
            // Another client behind the same proxy address is admitted.
            let other = try await SMTPTestClient(port: port)
            try await other.send("PROXY TCP4 192.0.2.8 198.51.100.1 40002 25\r\n")
            #expect(try await other.readCode() == "220")
            // The same client again is over its limit.
            let again = try await SMTPTestClient(port: port)
            try await again.send("PROXY TCP4 192.0.2.7 198.51.100.1 40003 25\r\n")
            #expect(try await again.readReply() == "421 4.7.0 mx.test Error: too many connections from your network\r\n")
            await first.close()
            await other.close()
        }
    }
}
