import Foundation

/// Where the listener hands each accepted message. The drop box implements it.
///
/// `deliver` returns only once the message is durable and its notification queued;
/// the listener answers the final `.` with 250 after it returns and 451 if it throws.
public protocol MessageSink: Sendable {
    func deliver(_ message: ReceivedMessage) async throws -> DeliveryReceipt
}

/// A sink that can also take a message held in memory from a thread that is no async task:
/// the listener's event loop hands the complete message over and gets the answer back through
/// a callback, without waking a task before and after (the drop box over the embedded store).
public protocol DirectMessageSink: MessageSink {
    /// Whether `submit` can be used now; when false the listener calls `deliver`.
    var deliversDirectly: Bool { get }

    /// Starts delivering `message` and returns at once. `completion` is called exactly once,
    /// on any thread, with what `deliver` would have returned or thrown: a receipt only once
    /// the message is durable and its notification queued.
    func submit(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void)
}

extension MessageSink {
    /// `deliver` in a new task, answered through `completion`: `submit` when a direct path is missing.
    public func deliverInTask(_ message: ReceivedMessage, completion: @escaping @Sendable (Result<DeliveryReceipt, any Error>) -> Void) {
        Task {
            do {
                completion(.success(try await self.deliver(message)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}

/// The SMTP envelope and connection facts of one accepted message.
public struct SMTPEnvelope: Sendable, Equatable {
    /// The name the client gave in EHLO or HELO.
    public var heloName: String
    /// Whether the client greeted with EHLO (ESMTP) rather than HELO.
    public var esmtp: Bool
    /// The reverse path without angle brackets; empty for the null sender `<>`.
    public var mailFrom: String
    /// Forward paths without angle brackets, in the order accepted.
    public var recipients: [String]
    /// The client's IP address as text (no name lookup).
    public var clientAddress: String
    public var clientPort: Int
    /// Whether the transaction ran inside TLS (after STARTTLS).
    public var tls: Bool
    /// `BODY=8BITMIME` was given.
    public var eightBitMIME: Bool
    /// `SMTPUTF8` was given.
    public var smtpUTF8: Bool

    public init(
        heloName: String, esmtp: Bool, mailFrom: String, recipients: [String],
        clientAddress: String, clientPort: Int, tls: Bool,
        eightBitMIME: Bool = false, smtpUTF8: Bool = false
    ) {
        self.heloName = heloName
        self.esmtp = esmtp
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.tls = tls
        self.eightBitMIME = eightBitMIME
        self.smtpUTF8 = smtpUTF8
    }
}

/// The message text as received (dot-stuffing removed, CRLF line ends kept).
public enum MessageContent: Sendable, Equatable {
    case memory([UInt8])
    /// A spool file written by the listener for a message over the in-memory limit.
    /// The listener deletes it after `deliver` returns or throws.
    case spooled(path: String, size: Int)

    public var size: Int {
        switch self {
        case .memory(let bytes): bytes.count
        case .spooled(_, let size): size
        }
    }
}

public struct ReceivedMessage: Sendable {
    public var envelope: SMTPEnvelope
    public var content: MessageContent
    /// When the final `.` arrived.
    public var receivedAt: Date

    public init(envelope: SMTPEnvelope, content: MessageContent, receivedAt: Date) {
        self.envelope = envelope
        self.content = content
        self.receivedAt = receivedAt
    }
}

public struct DeliveryReceipt: Sendable, Equatable {
    /// Unique, URL-safe; the reply says `250 2.0.0 Ok: queued as <messageId>`.
    public var messageId: String
    /// The object key the message was stored under.
    public var objectKey: String

    public init(messageId: String, objectKey: String) {
        self.messageId = messageId
        self.objectKey = objectKey
    }
}
