/// What a PROXY protocol header (haproxy's `doc/proxy-protocol.txt`, versions 1 and 2) says
/// about the connection it precedes.
public struct ProxyHeader: Sendable, Hashable {
    public enum Version: Int, Sendable, Hashable {
        /// The text line `PROXY TCP4 … CRLF` (§2.1).
        case v1 = 1
        /// The binary header behind the 12-byte signature (§2.2).
        case v2 = 2
    }

    /// One end of the proxied TCP connection.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
        public var address: [UInt8]
        public var port: UInt16

        public init(address: [UInt8], port: UInt16) {
            self.address = address
            self.port = port
        }

        /// `192.0.2.1:25`, `[2001:db8:0:0:0:0:0:1]:25` (for messages; logs use the socket address form).
        public var description: String {
            if self.address.count == 4 {
                return self.address.map(String.init).joined(separator: ".") + ":\(self.port)"
            }
            let groups = stride(from: 0, to: self.address.count, by: 2).map {
                String(UInt16(self.address[$0]) << 8 | UInt16(self.address[$0 + 1]), radix: 16)
            }
            return "[" + groups.joined(separator: ":") + "]:\(self.port)"
        }
    }

    /// Why a header carries no client address to use.
    public enum NoAddressReason: String, Sendable, Hashable {
        /// v1 `PROXY UNKNOWN`.
        case unknown
        /// v2 `LOCAL`: the proxy's own connection (a health check).
        case local
        /// v2 `PROXY` with a family or transport other than TCP over IPv4 or IPv6 (`AF_UNSPEC`,
        /// `AF_UNIX`, UDP): valid, but no IP client to name (§2.2 lets the receiver fall back).
        case unsupportedFamily = "unsupported-family"
    }

    public enum Addresses: Sendable, Hashable {
        /// TCP over IPv4 or IPv6: the client (`source`) and the address it connected to.
        case proxied(source: Endpoint, destination: Endpoint)
        /// The connection's own addresses are to be used.
        case connectionAddresses(NoAddressReason)
    }

    public var version: Version
    public var addresses: Addresses
    /// The header's length on the wire; the protocol the header precedes starts after it.
    public var length: Int

    public init(version: Version, addresses: Addresses, length: Int) {
        self.version = version
        self.addresses = addresses
        self.length = length
    }

    /// The client to use in place of the connection's peer, if the header names one.
    public var source: Endpoint? {
        if case .proxied(let source, _) = self.addresses { source } else { nil }
    }
}

/// Why a connection's first bytes are not a valid PROXY protocol header. The connection is
/// dropped: nothing was said to the client yet, and nothing is.
public struct ProxyHeaderError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Neither `PROXY ` nor the v2 signature: plain SMTP, TLS, or noise.
        case wrongSignature = "wrong-signature"
        /// v1: no CRLF within 107 bytes.
        case lineTooLong = "line-too-long"
        /// v1: a CR without LF, an LF without CR, or a byte outside printable US-ASCII.
        case badCharacter = "bad-character"
        /// v1: the line does not follow the grammar (family, addresses, ports, spaces).
        case malformedLine = "malformed-line"
        /// v2: the version nibble is not 2.
        case unsupportedVersion = "unsupported-version"
        /// v2: a command other than LOCAL (0) and PROXY (1).
        case unknownCommand = "unknown-command"
        /// v2: an address family other than 0-3, or a transport other than 0-2.
        case unknownFamily = "unknown-family"
        /// v2: the length is shorter than the family's addresses.
        case addressLengthMismatch = "address-length-mismatch"
        /// v2: the TLVs after the addresses are longer than the receiver allows.
        case headerTooLong = "header-too-long"
        /// v2: a TLV runs past the end of the header.
        case truncatedTLV = "truncated-tlv"
        /// v2: a `PP2_TYPE_CRC32C` TLV whose value is not the header's CRC32c (or not 4 bytes).
        case checksumMismatch = "checksum-mismatch"
        /// The connection ended before the header did.
        case truncated
        /// No whole header within the header timeout.
        case timeout
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(self.kind.rawValue): \(self.detail)" }
}
