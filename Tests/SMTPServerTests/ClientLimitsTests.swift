import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import SMTPServer

private let defaultPrefixes = ClientNetwork.Prefixes(ipv4: 32, ipv6: 64)

private func network(_ ip: String, _ prefixes: ClientNetwork.Prefixes = defaultPrefixes) throws -> ClientNetwork {
    ClientNetwork(try SocketAddress(ipAddress: ip, port: 25), prefixes: prefixes)
}

@Suite struct ClientNetworkTests {
    @Test func ipv4CountsTheWholeAddressByDefault() throws {
        #expect(try network("192.0.2.1") != network("192.0.2.2"))
        #expect(try network("192.0.2.1") == network("192.0.2.1"))
        #expect(try network("192.0.2.1").description == "192.0.2.1/32")
    }

    @Test func ipv6CountsTheSlash64() throws {
        let a = try network("2001:db8:1:2::1")
        #expect(try a == network("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(try a == network("2001:db8:1:2:1234::99"))
        #expect(try a != network("2001:db8:1:3::1"))
        #expect(a.description == "2001:db8:1:2:0:0:0:0/64")
    }

    @Test(arguments: [
        ("192.0.2.1", "192.0.2.200", 24, true),
        ("192.0.2.1", "192.0.3.1", 24, false),
        ("192.0.1.1", "192.0.2.1", 23, false),
        ("192.0.2.1", "192.0.3.1", 22, true),
        ("10.1.2.3", "10.200.0.0", 8, true),
        ("127.0.0.2", "127.0.0.3", 31, true),
        ("127.0.0.1", "127.0.0.2", 31, false),
    ])
    func ipv4Prefixes(a: String, b: String, prefix: Int, same: Bool) throws {
        let prefixes = ClientNetwork.Prefixes(ipv4: prefix, ipv6: 64)
        #expect(try (network(a, prefixes) == network(b, prefixes)) == same)
    }

    @Test(arguments: [
        ("2001:db8::1", "2001:db8:0:ff::1", 56, true),
        ("2001:db8::1", "2001:db8:0:100::1", 56, false),
        ("2001:db8::1", "2001:db8::2", 128, false),
        ("2001:db8::1", "2001:db9::1", 32, false),
        ("2001:db8::1", "2001:db8:ffff::1", 32, true),
        ("2001:db8::1", "2001:db8::1:0", 127, false),
    ])
    func ipv6Prefixes(a: String, b: String, prefix: Int, same: Bool) throws {
        let prefixes = ClientNetwork.Prefixes(ipv4: 32, ipv6: prefix)
        #expect(try (network(a, prefixes) == network(b, prefixes)) == same)
    }

    @Test func anIPv4MappedAddressCountsAsIPv4() throws {
        let prefixes = ClientNetwork.Prefixes(ipv4: 24, ipv6: 64)
        let mapped = try network("::ffff:192.0.2.9", prefixes)
        #expect(try mapped == network("192.0.2.1", prefixes))
        #expect(mapped.description == "192.0.2.0/24")
    }

    @Test func maskingClearsEveryBitPastThePrefix() {
        let key = ClientNetwork(addressBytes: [0xFF, 0xFF, 0xFF, 0xFF], prefixes: .init(ipv4: 13, ipv6: 64))
        #expect(key.bytes == [0xFF, 0xF8, 0x00, 0x00])
    }
}

@Suite struct ConnectionRateCounterTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// Attempts from `hosts` (192.0.2.x) at the given seconds after the start.
    static func attempts(
        _ counter: inout ConnectionRateCounter, _ attempts: [(host: Int, second: Int64)], start: NIODeadline
    ) throws -> [Bool] {
        try attempts.map { attempt in
            counter.recordAttempt(from: try network("192.0.2.\(attempt.host)"), at: start + .seconds(attempt.second))
        }
    }

    @Test func refusesPastTheLimitWithinAWindow() throws {
        var counter = ConnectionRateCounter(limit: 3)
        let results = try Self.attempts(&counter, (0..<5).map { (1, Int64($0)) }, start: self.start)
        #expect(results == [true, true, true, false, false])
        // Another network has its own count.
        #expect(try Self.attempts(&counter, [(2, 5)], start: self.start) == [true])
    }

    @Test func aNewWindowStartsAfterAMinute() throws {
        var counter = ConnectionRateCounter(limit: 1)
        let results = try Self.attempts(&counter, [(1, 0), (1, 59), (1, 60), (1, 61)], start: self.start)
        #expect(results == [true, false, true, false])
    }

    @Test func zeroIsNoLimit() throws {
        var counter = ConnectionRateCounter(limit: 0)
        let results = try Self.attempts(&counter, Array(repeating: (1, 0), count: 1000), start: self.start)
        #expect(results.allSatisfy { $0 })
        #expect(counter.trackedNetworks == 0)
    }

    @Test func theTableIsBounded() throws {
        var counter = ConnectionRateCounter(limit: 1, maximumTrackedNetworks: 10)
        _ = try Self.attempts(&counter, (1...30).map { ($0, 0) }, start: self.start)
        #expect(counter.trackedNetworks == 10)
        // Networks in the table keep their count; once their windows end they make room.
        #expect(try Self.attempts(&counter, [(1, 1)], start: self.start) == [false])
        #expect(try Self.attempts(&counter, [(200, 60)], start: self.start) == [true])
        #expect(counter.trackedNetworks == 1)
    }
}

@Suite struct ConnectionLimiterTests {
    @Test func countsConcurrentConnectionsPerNetwork() throws {
        let limiter = ConnectionLimiter(
            .init(maximumConnections: 10, maximumConnectionsPerNetwork: 2, maximumConnectionRate: 0,
                  prefixes: .init(ipv4: 24, ipv6: 64)))
        let a = limiter.network(of: try SocketAddress(ipAddress: "127.0.0.2", port: 1))
        let b = limiter.network(of: try SocketAddress(ipAddress: "127.0.0.3", port: 1))
        #expect(a == b)
        #expect(limiter.admit(a) == .admitted)
        #expect(limiter.admit(b) == .admitted)
        #expect(limiter.admit(b) == .tooManyFromNetwork)
        let other = limiter.network(of: try SocketAddress(ipAddress: "127.0.1.2", port: 1))
        #expect(limiter.admit(other) == .admitted)
        limiter.release(a)
        #expect(limiter.admit(b) == .admitted)
        #expect(limiter.openConnections == 3)
    }

    @Test func countsTheTotal() throws {
        let limiter = ConnectionLimiter(
            .init(maximumConnections: 2, maximumConnectionsPerNetwork: 5, maximumConnectionRate: 0,
                  prefixes: .init(ipv4: 32, ipv6: 64)))
        let hosts = try (1...3).map { limiter.network(of: try SocketAddress(ipAddress: "192.0.2.\($0)", port: 1)) }
        #expect(hosts.map(limiter.admit) == [.admitted, .admitted, .tooManyConnections])
    }

    @Test func countsTheRatePerNetworkWithTheInjectedClock() throws {
        let now = NIOLockedValueBox(NIODeadline.uptimeNanoseconds(1_000_000_000))
        let limiter = ConnectionLimiter(
            .init(maximumConnections: 100, maximumConnectionsPerNetwork: 100, maximumConnectionRate: 2,
                  prefixes: .init(ipv4: 32, ipv6: 64)),
            now: { now.withLockedValue { $0 } })
        let client = limiter.network(of: try SocketAddress(ipAddress: "192.0.2.1", port: 1))
        #expect(limiter.admit(client) == .admitted)
        limiter.release(client)
        #expect(limiter.admit(client) == .admitted)
        limiter.release(client)
        #expect(limiter.admit(client) == .connectionRateExceeded)
        #expect(limiter.openConnections == 0)
        now.withLockedValue { $0 = $0 + .seconds(60) }
        #expect(limiter.admit(client) == .admitted)
    }
}

@Suite struct DataRateDeadlineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func theGraceComesFirst() {
        let rate = DataRateDeadline(started: self.start, grace: .seconds(30), minimumRate: 500)
        #expect(rate.deadline(received: 0) == self.start + .seconds(30))
        #expect(rate.deadline(received: 15_000) == self.start + .seconds(30))
    }

    @Test func thenEachByteBuysTime() {
        let rate = DataRateDeadline(started: self.start, grace: .seconds(30), minimumRate: 500)
        #expect(rate.deadline(received: 20_000) == self.start + .seconds(40))
        // 40 MB at the minimum rate takes 80,000 s: allowed, at 500 bytes/s and no slower.
        #expect(rate.deadline(received: 40_000_000) == self.start + .seconds(80_000))
    }

    @Test func aTrickleIsCutAtTheGrace() {
        // One byte a second for 30 s earns 0.06 s: the deadline stays at the grace.
        let rate = DataRateDeadline(started: self.start, grace: .seconds(30), minimumRate: 500)
        #expect(rate.deadline(received: 30) == self.start + .seconds(30))
    }

    @Test func zeroTurnsTheCheckOff() {
        #expect(DataRateDeadline(started: self.start, grace: .seconds(1), minimumRate: 0).deadline(received: 0) == nil)
    }
}
