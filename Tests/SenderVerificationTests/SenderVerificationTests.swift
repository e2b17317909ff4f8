import Foundation
import SenderAuthentication
import Testing

@testable import SenderVerification

@Suite struct DNSServerAddressTests {
    @Test(arguments: [
        ("192.0.2.53", "192.0.2.53", 53), ("192.0.2.53:5353", "192.0.2.53", 5353), ("::1", "::1", 53),
        ("[2001:db8::53]:5300", "2001:db8::53", 5300), ("[::1]", "::1", 53),
    ])
    func accepts(text: String, host: String, port: Int) throws {
        let address = try #require(DNSServerAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["dns.example.com", "192.0.2.53:0", "192.0.2.53:70000", "[::1", "[::1]x", "", "192.0.2.53:", "1.2.3"])
    func refuses(text: String) {
        #expect(DNSServerAddress(text) == nil)
    }
}

@Suite struct MessageHeaderFieldsTests {
    @Test func unfoldsAndFindsTheOneFromAddress() {
        let message = Array("Received: from a\r\n\tby b\r\nFrom: \"Smith, Alice\" (work)\r\n <Alice@Example.COM>\r\nSubject: x\r\n\r\nFrom: body@example.net\r\n".utf8)
        let headers = MessageHeaderFields(message: message)
        #expect(headers.fromAddress == "Alice@Example.COM")
        #expect(MessageHeaderFields.domain(of: "Alice@Example.COM") == "example.com")
        #expect(headers.values(named: "received").count == 1)
    }

    /// Lines end in CRLF or a bare LF; a bare CR stays in its value; a continuation before the
    /// first field is dropped; a name's surrounding whitespace goes, a value keeps its own; a
    /// line without a colon is skipped; the section ends at the first empty line or the end.
    @Test func splitsLinesOnBytes() {
        let text = "\tstray continuation\nX-A : one\r\n two\nno colon here\r\nX-B:a\rb\r\nX-\u{e9}: caf\u{e9} \r\n\tfolded"
        let headers = MessageHeaderFields(message: Array(text.utf8))
        #expect(headers.fields.map(\.name) == ["X-A", "X-B", "X-\u{e9}"])
        #expect(headers.values(named: "x-a") == [" one two"])
        #expect(headers.values(named: "X-B") == ["a\rb"])
        #expect(headers.values(named: "x-\u{c9}") == [" caf\u{e9} \tfolded"])
        #expect(MessageHeaderFields(message: Array("A: 1\n\nB: 2\n".utf8)).fields.map(\.name) == ["A"])
        #expect(MessageHeaderFields(message: []).fields.isEmpty)
        #expect(MessageHeaderFields(message: Array("\r\nA: 1\r\n".utf8)).fields.isEmpty)
    }

    @Test(arguments: [
        "From: a@example.com\r\nFrom: b@example.net\r\n\r\n",  // two From fields
        "From: a@example.com, b@example.net\r\n\r\n",  // two mailboxes
        "From: undisclosed:;\r\n\r\n",  // a group
        "Subject: no from\r\n\r\n",
        "From: <no-at-sign>\r\n\r\n",
    ])
    func noSingleFromAddress(text: String) {
        #expect(MessageHeaderFields(message: Array(text.utf8)).fromAddress == nil)
    }

    @Test func arcSealsAreReadInInstanceOrderAndNeverTrusted() {
        let message = Array("""
            ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=Lists.Example; s=k; b=abc\r
            ARC-Seal: i=1; a=rsa-sha256; cv=none; d=first.example;\r
            \ts=k; b=def\r
            From: a@example.com\r
            \r

            """.utf8)
        let arc = ARCHeaderReader.check(MessageHeaderFields(message: message), trustedSealers: ["lists.example"])
        #expect(arc.present)
        #expect(arc.chainValidation == "pass")
        #expect(arc.sealers == ["first.example", "lists.example"])
        #expect(!arc.trusted)
        #expect(ARCHeaderReader.check(MessageHeaderFields(message: Array("From: a@b.c\r\n\r\n".utf8)), trustedSealers: []) == .absent)
    }
}

/// The resolver against a loopback UDP socket that never answers: every query ends at its
/// timeout, and the message's budget stops asking once it is used up.
@Suite struct UnboundResolverTests {
    /// A bound UDP socket on 127.0.0.1 that reads nothing; closed by `deinit`.
    final class SilentServer {
        let descriptor: Int32
        let port: Int

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            self.descriptor = descriptor
            try #require(bound)
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(self.descriptor) }
    }

    @Test func anUnansweredQueryFailsAtItsTimeout() throws {
        let server = try SilentServer()
        let resolver = try UnboundResolver(forwarder: DNSServerAddress("127.0.0.1:\(server.port)"), cacheBytes: 1 << 20)
        let started = ContinuousClock.now
        let answer = resolver.lookup("example.com", .txt, timeout: .milliseconds(300))
        guard case .failure(let reason) = answer else {
            Issue.record("expected a failure, got \(answer)")
            return
        }
        #expect(reason.contains("no answer"))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func theResolverCachesAreBoundedToTheConfiguredBytes() throws {
        let server = try SilentServer()
        let configured = SenderVerifierConfiguration(cacheBytes: 3 << 20)
        let resolver = try UnboundResolver(forwarder: DNSServerAddress("127.0.0.1:\(server.port)"), cacheBytes: configured.cacheBytes)
        let sizes = resolver.cacheSizes
        #expect(sizes.messages == 3 << 20)
        #expect(sizes.rrsets == 3 << 20)
        let defaults = try UnboundResolver(
            forwarder: DNSServerAddress("127.0.0.1:\(server.port)"), cacheBytes: SenderVerifierConfiguration().cacheBytes)
        #expect(defaults.cacheSizes.messages == SenderVerifierConfiguration.defaultCacheBytes)
    }

    @Test func theBudgetStopsAskingAfterItsQueries() throws {
        let server = try SilentServer()
        let resolver = try UnboundResolver(forwarder: DNSServerAddress("127.0.0.1:\(server.port)"), cacheBytes: 1 << 20)
        let budget = DNSLookupBudget(resolver: resolver, queryTimeout: .milliseconds(100), maximumQueries: 2, maximumTime: .seconds(30))
        _ = budget.lookup("a.example.com", .txt)
        _ = budget.lookup("b.example.com", .txt)
        #expect(budget.queries == 2)
        #expect(budget.lookup("c.example.com", .txt) == .failure("DNS budget of 2 queries per message used up"))
        #expect(budget.queries == 2)
    }

    @Test func theTimeBudgetCapsEachQuery() throws {
        let server = try SilentServer()
        let resolver = try UnboundResolver(forwarder: DNSServerAddress("127.0.0.1:\(server.port)"), cacheBytes: 1 << 20)
        let budget = DNSLookupBudget(resolver: resolver, queryTimeout: .seconds(30), maximumQueries: 10, maximumTime: .milliseconds(300))
        let started = ContinuousClock.now
        _ = budget.lookup("a.example.com", .txt)
        guard case .failure = budget.lookup("b.example.com", .txt) else {
            Issue.record("expected the time budget to be used up")
            return
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func organizationalDomainsComeFromThePublicSuffixList() {
        #expect(DMARCEvaluator.organizationalDomain(of: "mail.Example.COM") == "example.com")
        #expect(DMARCEvaluator.organizationalDomain(of: "a.b.example.co.uk") == "example.co.uk")
        #expect(DMARCEvaluator.organizationalDomain(of: "example.com") == "example.com")
    }
}
