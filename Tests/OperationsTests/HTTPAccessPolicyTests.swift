import Testing

@testable import Operations

@Suite struct HTTPAccessPolicyTests {
    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"])
    func loopbackAddressesNeedNoToken(host: String) throws {
        #expect(HTTPAccessPolicy.isLoopback(host))
        let policy = try HTTPAccessPolicy(listenHost: host, token: nil)
        #expect(policy.allows(path: "/", authorization: nil, queryToken: nil))
        #expect(policy.allows(path: "/api/activity", authorization: nil, queryToken: nil))
    }

    @Test(arguments: ["0.0.0.0", "::", "10.0.0.1", "192.0.2.7", "2001:db8::1", "128.0.0.1", "127.0.0"])
    func otherAddressesRefuseToStartWithoutAToken(host: String) {
        #expect(!HTTPAccessPolicy.isLoopback(host))
        #expect(throws: HTTPAccessPolicy.MissingToken.self) { try HTTPAccessPolicy(listenHost: host, token: nil) }
        #expect(throws: HTTPAccessPolicy.MissingToken.self) { try HTTPAccessPolicy(listenHost: host, token: "") }
    }

    @Test func aTokenGuardsEverythingButHealthAndMetrics() throws {
        let policy = try HTTPAccessPolicy(listenHost: "0.0.0.0", token: "s3cret-token-0123456789")
        #expect(policy.allows(path: "/healthz", authorization: nil, queryToken: nil))
        #expect(policy.allows(path: "/metrics", authorization: nil, queryToken: nil))
        for path in ["/", "/readyz", "/api/activity", "/api/messages/x/raw", "/healthz/../"] {
            #expect(!policy.allows(path: path, authorization: nil, queryToken: nil))
            #expect(!policy.allows(path: path, authorization: "Bearer wrong", queryToken: nil))
            #expect(!policy.allows(path: path, authorization: "Basic s3cret-token-0123456789", queryToken: nil))
            #expect(!policy.allows(path: path, authorization: "Bearer s3cret-token-012345678", queryToken: nil))
            #expect(!policy.allows(path: path, authorization: nil, queryToken: "s3cret-token-01234567890"))
            #expect(policy.allows(path: path, authorization: "Bearer s3cret-token-0123456789", queryToken: nil))
            #expect(policy.allows(path: path, authorization: nil, queryToken: "s3cret-token-0123456789"))
        }
    }

    @Test func aTokenOnLoopbackIsRequiredToo() throws {
        let policy = try HTTPAccessPolicy(listenHost: "127.0.0.1", token: "loopback-token-0123456789")
        #expect(!policy.allows(path: "/", authorization: nil, queryToken: nil))
        #expect(policy.allows(path: "/", authorization: "Bearer loopback-token-0123456789", queryToken: nil))
    }
}
