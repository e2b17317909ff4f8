/// What the verifier reads: the stored message and what the intake recorded in its metadata.
public struct SenderAuthenticationInput: Sendable {
    /// The raw message as stored (with the intake's `Received:` header on top).
    public var message: [UInt8]
    /// The client's IP address (IPv4 dotted or IPv6 text), as the intake recorded it.
    public var clientAddress: String
    /// The name the client gave in EHLO/HELO.
    public var helo: String
    /// The envelope sender (MAIL FROM); empty for the null sender.
    public var mailFrom: String

    public init(message: [UInt8], clientAddress: String, helo: String, mailFrom: String) {
        self.message = message
        self.clientAddress = clientAddress
        self.helo = helo
        self.mailFrom = mailFrom
    }
}

/// Checks SPF, DKIM, DMARC and ARC for one message. Never throws: a DNS failure or a library
/// failure becomes a `temperror`/`permerror` result (SES's PROCESSING_FAILED).
public protocol SenderVerifying: Sendable {
    func verify(_ input: SenderAuthenticationInput) async -> SenderAuthenticationReport

    /// The organizational domain of `domain` (RFC 7489 §3.2, public suffix list), lowercased.
    func organizationalDomain(of domain: String) -> String
}
