import NIOCore

/// A network a load balancer may connect from when the PROXY protocol is on: an address
/// with a prefix length, `10.0.0.0/8`, `192.0.2.7` (one address), `2001:db8::/32`. An
/// IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`, a dual-stack listener) matches as IPv4.
public struct ProxyNetwork: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes, no bit set past the prefix.
    let bytes: [UInt8]
    let prefixLength: Int

    /// Parses `ADDRESS[/PREFIX]`; the error completes "'<text>' …".
    public static func parse(_ text: String) throws(ProxyNetworkError) -> ProxyNetwork {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = try? SocketAddress(ipAddress: String(parts[0]), port: 0) else {
            throw ProxyNetworkError("is not an IP address or ADDRESS/PREFIX network")
        }
        let bytes = ClientNetwork.addressBytes(address)
        guard !bytes.isEmpty else { throw ProxyNetworkError("is not an IP address or ADDRESS/PREFIX network") }
        if bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            throw ProxyNetworkError("is IPv4-mapped; write it as IPv4 (peers mapped to IPv6 match IPv4 networks)")
        }
        let bits = bytes.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let number = IPAddressText.decimal(parts[1], maximumDigits: 3), number <= bits else {
                throw ProxyNetworkError("has a prefix length that is not 0-\(bits)")
            }
            prefix = number
        }
        let network = ProxyNetwork(addressBytes: bytes, prefixLength: prefix)
        guard network.bytes == bytes else {
            throw ProxyNetworkError("has bits set past the /\(prefix) prefix (the network is \(network))")
        }
        return network
    }

    private init(addressBytes: [UInt8], prefixLength: Int) {
        let masked = ClientNetwork(addressBytes: addressBytes, prefixes: .init(ipv4: prefixLength, ipv6: prefixLength))
        self.bytes = masked.bytes
        self.prefixLength = masked.prefixLength
    }

    /// Whether the peer is inside this network.
    public func contains(_ peer: SocketAddress?) -> Bool {
        guard let peer else { return false }
        let prefixes = ClientNetwork.Prefixes(ipv4: self.prefixLength, ipv6: self.prefixLength)
        let network = ClientNetwork(ClientNetwork.addressBytes(peer).isEmpty ? nil : peer, prefixes: prefixes)
        return network.bytes.count == self.bytes.count && network.bytes == self.bytes
    }

    public var description: String {
        ClientNetwork(addressBytes: self.bytes, prefixes: .init(ipv4: self.prefixLength, ipv6: self.prefixLength)).description
    }
}

public struct ProxyNetworkError: Error, Sendable {
    public var problem: String

    init(_ problem: String) {
        self.problem = problem
    }
}
