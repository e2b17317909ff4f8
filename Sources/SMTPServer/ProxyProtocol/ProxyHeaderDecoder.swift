import NIOCore

/// Reads the PROXY protocol header (haproxy's `doc/proxy-protocol.txt`, v1 and v2) that a
/// trusted load balancer puts before the SMTP session. Pure: bytes and events in, one
/// decision out, no sockets, no clock.
///
/// There is no guessing (§2): the first bytes must be v1's `PROXY ` or v2's 12-byte
/// signature, told apart by those fixed bytes alone; anything else (plain SMTP, TLS) is
/// rejected. Every prefix is judged as soon as it can be: a wrong byte rejects at once, a
/// complete header accepts, and otherwise the decoder asks for more, holding at most one
/// header's worth of bytes beyond the last read (v1: 107 bytes; v2: 16 + the addresses +
/// `maximumTLVBytes`).
public struct ProxyHeaderDecoder: Sendable {
    /// The most TLV bytes (after the addresses) a v2 header may carry. The spec's header fits
    /// in 536 bytes; load balancers' TLVs (AWS's VPC endpoint id, haproxy's SSL and unique-id
    /// TLVs) stay well under this.
    public static let defaultMaximumTLVBytes = 1024
    /// §2.1: "If the CRLF sequence is not found in the first 107 characters, the receiver
    /// should declare the line invalid."
    public static let maximumV1Length = 107
    static let v1Signature = Array("PROXY ".utf8)
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v2FixedLength = 16

    public enum Action: Sendable, Equatable {
        /// No decision yet: wait for more bytes (within the header timeout).
        case readMore
        /// The header is whole and valid; `remainder` is what followed it in the same reads
        /// (the start of the SMTP session).
        case accept(ProxyHeader, remainder: ByteBuffer)
        /// Not a valid header: drop the connection.
        case reject(ProxyHeaderError)
    }

    public let maximumTLVBytes: Int
    private var received: [UInt8] = []
    private var decision: Action?

    public init(maximumTLVBytes: Int = Self.defaultMaximumTLVBytes) {
        self.maximumTLVBytes = maximumTLVBytes
    }

    /// Takes the next bytes of the connection. Once decided, the decision is repeated and
    /// the bytes are not looked at.
    public mutating func bytesReceived(_ bytes: ByteBuffer) -> Action {
        if let decision = self.decision { return decision }
        self.received.append(contentsOf: bytes.readableBytesView)
        let action: Action
        switch Self.evaluate(self.received, maximumTLVBytes: self.maximumTLVBytes) {
        case .incomplete:
            return .readMore
        case .invalid(let error):
            action = .reject(error)
        case .complete(let header):
            action = .accept(header, remainder: ByteBuffer(bytes: self.received[header.length...]))
        }
        self.received = []
        self.decision = action
        return action
    }

    /// The peer closed (or half-closed) before the header was whole.
    public mutating func inputClosed() -> Action {
        self.decide(ProxyHeaderError(.truncated, "the connection ended after \(self.received.count) bytes of the header"))
    }

    /// The header timeout passed.
    public mutating func timeoutFired() -> Action {
        self.decide(ProxyHeaderError(.timeout, "no whole header in time (\(self.received.count) bytes received)"))
    }

    private mutating func decide(_ error: ProxyHeaderError) -> Action {
        if let decision = self.decision { return decision }
        self.received = []
        self.decision = .reject(error)
        return .reject(error)
    }

    enum Evaluation: Equatable {
        case incomplete
        case complete(ProxyHeader)
        case invalid(ProxyHeaderError)
    }

    /// Judges the bytes received so far. A decision made on a prefix is the same for every
    /// extension of it (checked by the fuzz target).
    static func evaluate(_ bytes: [UInt8], maximumTLVBytes: Int) -> Evaluation {
        guard let first = bytes.first else { return .incomplete }
        let signature = first == Self.v1Signature[0] ? Self.v1Signature : Self.v2Signature
        let checked = min(bytes.count, signature.count)
        guard bytes[..<checked].elementsEqual(signature[..<checked]) else {
            return .invalid(ProxyHeaderError(.wrongSignature, "the connection does not start with a PROXY protocol v1 or v2 signature"))
        }
        if signature == Self.v1Signature {
            return ProxyHeaderV1.evaluate(bytes)
        }
        return ProxyHeaderV2.evaluate(bytes, maximumTLVBytes: maximumTLVBytes)
    }
}
