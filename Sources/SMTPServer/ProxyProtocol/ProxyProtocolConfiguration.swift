import NIOCore

/// The PROXY protocol on the SMTP listener (`--proxy-protocol`): every connection must come
/// from a trusted network and start with a v1 or v2 header, whose source address then
/// stands for the client everywhere (limits, logs, `Received:`, object metadata).
public struct ProxyProtocolConfiguration: Sendable {
    /// The networks the load balancers connect from. A connection from anywhere else is
    /// closed without a word (and logged).
    public var trustedNetworks: [ProxyNetwork]
    /// How long a trusted peer has to send the whole header before the connection is closed.
    public var headerTimeout: TimeAmount
    /// The TLV bytes a v2 header may carry after its addresses.
    public var maximumTLVBytes: Int

    /// As Postfix's `smtpd_upstream_proxy_timeout`.
    public static let defaultHeaderTimeout = TimeAmount.seconds(5)
    /// The spec's floor: "at least 3 seconds to cover a TCP retransmit" (§2).
    public static let minimumHeaderTimeout = TimeAmount.seconds(3)

    public init(
        trustedNetworks: [ProxyNetwork], headerTimeout: TimeAmount = Self.defaultHeaderTimeout,
        maximumTLVBytes: Int = ProxyHeaderDecoder.defaultMaximumTLVBytes
    ) {
        self.trustedNetworks = trustedNetworks
        self.headerTimeout = headerTimeout
        self.maximumTLVBytes = maximumTLVBytes
    }

    public func isTrusted(_ peer: SocketAddress?) -> Bool {
        self.trustedNetworks.contains { $0.contains(peer) }
    }
}
