/// User metadata keys stored with each message object (S3 `x-amz-meta-<key>`, the embedded
/// store's metadata table). The intake writes them through `MessageEnvelopeMetadata`; the
/// consumer reads them the same way.
public enum ObjectMetadataKey {
    public static let messageId = "message-id"
    /// The SMTP envelope sender (MAIL FROM), empty for the null sender.
    public static let envelopeSender = "mail-from"
    /// The envelope recipients, comma-separated.
    public static let recipients = "recipients"
    public static let clientAddress = "client-address"
    public static let clientPort = "client-port"
    /// The name the client gave in EHLO or HELO.
    public static let helo = "helo"
    /// The `with` protocol of the `Received:` header (`ESMTPS`, `UTF8SMTP`, …).
    public static let protocolName = "protocol"
    /// `true` when the message arrived inside TLS.
    public static let tls = "tls"
    /// ISO 8601 UTC with milliseconds: when the final `.` arrived.
    public static let receivedAt = "received-at"
}

/// The SMTP facts of one stored message, as object metadata.
public struct MessageEnvelopeMetadata: Sendable, Equatable {
    public var messageId: String
    /// Empty for the null sender `<>`.
    public var mailFrom: String
    public var recipients: [String]
    public var clientAddress: String
    public var clientPort: Int
    public var helo: String
    public var protocolName: String
    public var tls: Bool
    public var receivedAt: String

    public init(
        messageId: String, mailFrom: String, recipients: [String], clientAddress: String, clientPort: Int,
        helo: String, protocolName: String, tls: Bool, receivedAt: String
    ) {
        self.messageId = messageId
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.helo = helo
        self.protocolName = protocolName
        self.tls = tls
        self.receivedAt = receivedAt
    }

    /// The metadata map written with the object.
    public var dictionary: [String: String] {
        [
            ObjectMetadataKey.messageId: self.messageId,
            ObjectMetadataKey.envelopeSender: self.mailFrom,
            ObjectMetadataKey.recipients: self.recipients.joined(separator: ","),
            ObjectMetadataKey.clientAddress: self.clientAddress,
            ObjectMetadataKey.clientPort: String(self.clientPort),
            ObjectMetadataKey.helo: self.helo,
            ObjectMetadataKey.protocolName: self.protocolName,
            ObjectMetadataKey.tls: self.tls ? "true" : "false",
            ObjectMetadataKey.receivedAt: self.receivedAt,
        ]
    }

    /// Reads stored metadata back. Objects written by something other than the intake (an
    /// S3 upload, an older version) may lack any key: a missing text is empty, a missing or
    /// malformed port is 0, and `tls` is true only when it says `true`.
    public init(dictionary: [String: String]) {
        self.messageId = dictionary[ObjectMetadataKey.messageId] ?? ""
        self.mailFrom = dictionary[ObjectMetadataKey.envelopeSender] ?? ""
        self.recipients = (dictionary[ObjectMetadataKey.recipients] ?? "")
            .split(separator: ",", omittingEmptySubsequences: true).map(String.init)
        self.clientAddress = dictionary[ObjectMetadataKey.clientAddress] ?? ""
        self.clientPort = dictionary[ObjectMetadataKey.clientPort].flatMap { Int($0) } ?? 0
        self.helo = dictionary[ObjectMetadataKey.helo] ?? ""
        self.protocolName = dictionary[ObjectMetadataKey.protocolName] ?? ""
        self.tls = dictionary[ObjectMetadataKey.tls] == "true"
        self.receivedAt = dictionary[ObjectMetadataKey.receivedAt] ?? ""
    }
}
