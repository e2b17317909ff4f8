import BlockingWork
import Foundation
import Notifications
import SenderAuthentication

/// The consumer's sender-authentication step (`--sender-policy report` or `enforce`): runs the
/// verifier on a stored message under a per-message deadline, renders the
/// `Authentication-Results` field, and holds the policy that decides on each request.
public struct SenderCheck: Sendable {
    public var verifier: any SenderVerifying
    public var policy: SenderPolicy
    public var configuration: SenderCheckConfiguration

    public init(verifier: any SenderVerifying, configuration: SenderCheckConfiguration) {
        self.verifier = verifier
        self.configuration = configuration
        self.policy = SenderPolicy(mode: configuration.mode) { [verifier] domain in verifier.organizationalDomain(of: domain) }
    }

    /// What the verifier concluded about one message.
    public struct Verdicts: Sendable {
        public var report: SenderAuthenticationReport
        /// The whole `Authentication-Results:` field.
        public var authenticationResults: String
        /// `Authentication-Results` fields in the message that claimed our authserv-id (RFC 8601 §5: ignored).
        public var ignoredAuthenticationResults: Int
        /// The deadline passed before the verifier answered: every result is a `temperror`.
        public var timedOut: Bool
        /// A check ended in a `temperror` and the message arrived less than
        /// `--sender-temperror-retry` ago: under `enforce` a refusal is put off and the message retried.
        public var mayRetryTemporaryErrors: Bool = false
    }

    /// Verifies the sender of a stored message from its bytes and the intake's metadata.
    public func verify(message: [UInt8], envelope: MessageEnvelopeMetadata, now: Date = Date()) async -> Verdicts {
        let input = SenderAuthenticationInput(
            message: message, clientAddress: Self.spfClientAddress(envelope.clientAddress), helo: envelope.helo,
            mailFrom: envelope.mailFrom)
        let (report, timedOut) = await Self.verify(input, with: self.verifier, timeout: self.configuration.verificationTimeout)
        return Verdicts(
            report: report,
            authenticationResults: report.authenticationResultsHeader(authservId: self.configuration.authservId, folded: false),
            ignoredAuthenticationResults: ClaimedAuthenticationResults.count(in: message, authservId: self.configuration.authservId),
            timedOut: timedOut,
            mayRetryTemporaryErrors: report.hasTemporaryError
                && Self.arrivedWithin(self.configuration.temporaryErrorRetryPeriod, receivedAt: envelope.receivedAt, now: now))
    }

    /// Whether the intake's `receivedAt` lies less than `period` before `now`; false when it is
    /// missing or unreadable (the message is then decided at once).
    static func arrivedWithin(_ period: Duration, receivedAt: String, now: Date) -> Bool {
        guard let received = ISO8601Timestamp.millisecondsSince1970(parsing: receivedAt) else { return false }
        let age = Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) - received
        return age < period.components.seconds * 1000
    }

    /// The client address as SPF checks it: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
    /// dual-stack listener sees for an IPv4 client) as its IPv4 address.
    static func spfClientAddress(_ address: String) -> String {
        let lowercased = address.lowercased()
        for prefix in ["::ffff:", "0:0:0:0:0:ffff:"] where lowercased.hasPrefix(prefix) {
            let rest = lowercased.dropFirst(prefix.count)
            if rest.split(separator: ".").count == 4 { return String(rest) }
        }
        return address
    }

    /// Runs `verifier` and returns its report, or after `timeout` an unverified report.
    static func verify(
        _ input: SenderAuthenticationInput, with verifier: any SenderVerifying, timeout: Duration
    ) async -> (SenderAuthenticationReport, timedOut: Bool) {
        let seconds = timeout.components.seconds
        let (report, finished) = await FirstOutcome.of(
            { await verifier.verify(input) }, timeout: timeout,
            otherwise: { .unverified(input, reason: "verification took longer than \(seconds) s") })
        return (report, !finished)
    }
}

/// How the consumer checks senders: `--sender-policy`, `--sender-verification-timeout` and the
/// verifier's `--authserv-id`.
public struct SenderCheckConfiguration: Sendable {
    public var mode: SenderPolicyMode
    /// The per-message deadline for the verifier (all its DNS queries included); longer than
    /// the verifier's own DNS budget per message, so that it normally answers first.
    public var verificationTimeout: Duration
    /// The name of this receiver in the `Authentication-Results` field (RFC 8601 §2.5).
    public var authservId: String
    /// Under `enforce`, how long after its arrival a message whose sender could not be verified
    /// because of a `temperror` is retried (DNS may come back) before it is refused.
    public var temporaryErrorRetryPeriod: Duration

    public static let defaultMode = SenderPolicyMode.report
    public static let defaultVerificationTimeoutSeconds = 30
    public static let verificationTimeoutRange = 1...600
    public static let defaultTemporaryErrorRetrySeconds = 3600
    /// Up to five days, Postfix's `maximal_queue_lifetime`: a sender's MTA gives up about then too.
    public static let temporaryErrorRetryRange = 0...432_000

    public init(
        mode: SenderPolicyMode = Self.defaultMode, verificationTimeout: Duration = .seconds(Self.defaultVerificationTimeoutSeconds),
        authservId: String, temporaryErrorRetryPeriod: Duration = .seconds(Self.defaultTemporaryErrorRetrySeconds)
    ) {
        self.mode = mode
        self.verificationTimeout = verificationTimeout
        self.authservId = authservId
        self.temporaryErrorRetryPeriod = temporaryErrorRetryPeriod
    }
}
