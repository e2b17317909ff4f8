#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The network a client address is counted in by the per-client limits: its IPv4 address
/// cut to a prefix (default /32, one address) or its IPv6 address cut to a prefix (default
/// /64, one site: a single host can take any address in its /64). An IPv4-mapped IPv6
/// address (`::ffff:192.0.2.1`) counts as the IPv4 address.
struct ClientNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The address bytes with every bit past the prefix cleared (4 or 16 bytes; none for
    /// a client that has no IP address, such as a Unix socket).
    let bytes: [UInt8]
    let prefixLength: Int

    struct Prefixes: Sendable, Hashable {
        var ipv4: Int
        var ipv6: Int
    }

    init(addressBytes: [UInt8], prefixes: Prefixes) {
        var bytes = addressBytes
        var prefix: Int
        switch bytes.count {
        case 4:
            prefix = prefixes.ipv4
        case 16 where bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF:
            bytes = Array(bytes.suffix(4))
            prefix = prefixes.ipv4
        case 16:
            prefix = prefixes.ipv6
        default:
            bytes = []
            prefix = 0
        }
        prefix = max(0, min(prefix, bytes.count * 8))
        for index in bytes.indices {
            let keep = max(0, min(8, prefix - index * 8))
            bytes[index] &= keep == 8 ? 0xFF : ~(0xFF >> UInt8(keep))
        }
        self.bytes = bytes
        self.prefixLength = prefix
    }

    init(_ address: SocketAddress?, prefixes: Prefixes) {
        self.init(addressBytes: address.map(Self.addressBytes) ?? [], prefixes: prefixes)
    }

    static func addressBytes(_ address: SocketAddress) -> [UInt8] {
        let family: Int32
        let count: Int
        switch address.protocol {
        case .inet: (family, count) = (AF_INET, 4)
        case .inet6: (family, count) = (AF_INET6, 16)
        default: return []
        }
        guard let text = address.ipAddress else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let parsed = bytes.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return parsed == 1 ? bytes : []
    }

    /// `192.0.2.0/24`, `2001:db8:1:2::/64` style (groups in hex, zero groups written out).
    var description: String {
        switch self.bytes.count {
        case 4:
            return self.bytes.map(String.init).joined(separator: ".") + "/\(self.prefixLength)"
        case 16:
            let groups = stride(from: 0, to: 16, by: 2).map { String(UInt16(self.bytes[$0]) << 8 | UInt16(self.bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "/\(self.prefixLength)"
        default:
            return "local"
        }
    }
}
