import ArgumentParser
import Consumer

/// What the consumer does with the sender-authentication verdicts, shared by `cis serve` and
/// `cis consume`. The verifier's own options (DNS, authserv-id, ARC sealers) are `SenderAuthenticationOptions`.
struct SenderPolicyOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "off: no sender verification; report: SPF, DKIM and DMARC verdicts in every event, routing unchanged; enforce: requests from an unauthenticated sender, an organizer outside the sender's domain, an update or cancel from another domain than the event's creator, or a reply from a non-attendee go to the failure route (notify: false unless the sender is authenticated). Env: CIS_SENDER_POLICY. Default: \(SenderCheckConfiguration.defaultMode.rawValue).",
        valueName: "off|report|enforce"))
    var senderPolicy: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds the sender verification of one message may take, \(SenderCheckConfiguration.verificationTimeoutRange.text); past it every verdict is PROCESSING_FAILED. Env: CIS_SENDER_VERIFICATION_TIMEOUT. Default: \(SenderCheckConfiguration.defaultVerificationTimeoutSeconds).",
        valueName: "seconds"))
    var senderVerificationTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Under enforce: seconds after a message's arrival during which a sender that could not be verified because of a temporary DNS failure (temperror) is not refused: the message is retried with the consumer's backoff; past it, or with 0, it goes to the failure route, \(SenderCheckConfiguration.temporaryErrorRetryRange.text). Env: CIS_SENDER_TEMPERROR_RETRY. Default: \(SenderCheckConfiguration.defaultTemporaryErrorRetrySeconds).",
        valueName: "seconds"))
    var senderTemperrorRetry: String?

    func mode(_ settings: Settings) throws(ConfigurationError) -> SenderPolicyMode {
        try settings.value(
            self.senderPolicy, flag: "--sender-policy", variable: "CIS_SENDER_POLICY", default: SenderCheckConfiguration.defaultMode,
            parse: Parse.oneOf)
    }

    func verificationTimeout(_ settings: Settings) throws(ConfigurationError) -> Duration {
        .seconds(
            try settings.value(
                self.senderVerificationTimeout, flag: "--sender-verification-timeout", variable: "CIS_SENDER_VERIFICATION_TIMEOUT",
                default: SenderCheckConfiguration.defaultVerificationTimeoutSeconds,
                parse: Parse.integer(in: SenderCheckConfiguration.verificationTimeoutRange)))
    }

    func temporaryErrorRetryPeriod(_ settings: Settings) throws(ConfigurationError) -> Duration {
        .seconds(
            try settings.value(
                self.senderTemperrorRetry, flag: "--sender-temperror-retry", variable: "CIS_SENDER_TEMPERROR_RETRY",
                default: SenderCheckConfiguration.defaultTemporaryErrorRetrySeconds,
                parse: Parse.integer(in: SenderCheckConfiguration.temporaryErrorRetryRange)))
    }
}
