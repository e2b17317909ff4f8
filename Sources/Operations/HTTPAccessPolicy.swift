/// Who may read what on the HTTP side port. `/healthz` and `/metrics` are open (probes and
/// scrapers); everything else (the status page, its API, stored messages) needs the bearer
/// token when one is set, and a listener off loopback must have one.
public struct HTTPAccessPolicy: Sendable, Equatable {
    public struct MissingToken: Error, CustomStringConvertible {
        public var host: String
        public var description: String {
            "'\(self.host)' is not a loopback address: set --http-token (Env: CIS_HTTP_TOKEN) so that only /healthz and /metrics are open there, or listen on 127.0.0.1"
        }
    }

    /// Paths answered without the token.
    public static let openPaths: Set<String> = ["/healthz", "/metrics"]

    public let token: String?

    /// Refuses a non-loopback listen address without a token.
    public init(listenHost: String, token: String?) throws(MissingToken) {
        let token = token.flatMap { $0.isEmpty ? nil : $0 }
        if token == nil && !Self.isLoopback(listenHost) { throw MissingToken(host: listenHost) }
        self.token = token
    }

    /// 127.0.0.0/8 and ::1 (also as an IPv4-mapped address); `0.0.0.0` and `::` are every address, not loopback.
    public static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        if host.hasPrefix("::ffff:") { host = String(host.dropFirst(7)) }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether a request for `path` may be answered.
    /// - Parameters:
    ///   - authorization: the `Authorization` header (`Bearer <token>`).
    ///   - queryToken: the `token` query parameter, for a browser opening the page by its link.
    public func allows(path: String, authorization: String?, queryToken: String?) -> Bool {
        guard let token = self.token, !Self.openPaths.contains(path) else { return true }
        if let authorization, authorization.hasPrefix("Bearer "),
            Self.constantTimeEqual(String(authorization.dropFirst(7)), token)
        {
            return true
        }
        if let queryToken, Self.constantTimeEqual(queryToken, token) { return true }
        return false
    }

    /// Compares without stopping at the first difference, so timing tells nothing of the token.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
