/// The MAIL FROM parameters the server understands.
public struct MailParameters: Sendable, Hashable {
    /// `BODY=` (RFC 6152).
    public enum Body: String, Sendable, Hashable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
    }

    /// `SIZE=` (RFC 1870 §6): the client's estimate of the message size in octets.
    /// Values too large for `Int` are clamped to `Int.max`.
    public var size: Int?
    public var body: Body?
    /// `SMTPUTF8` (RFC 6531 §3.4).
    public var smtpUTF8: Bool

    public init(size: Int? = nil, body: Body? = nil, smtpUTF8: Bool = false) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
    }

    /// Whether any parameter was given (parameters need an EHLO session).
    public var isEmpty: Bool { self.size == nil && self.body == nil && !self.smtpUTF8 }
}
