import Consumer
import SenderVerification

/// The consumer's sender check, from `--sender-policy` and the verifier's options (DNS,
/// authserv-id, ARC sealers): every value checked at start, the verifier made only when the
/// policy is not `off`.
struct SenderCheckSetup {
    var mode: SenderPolicyMode
    var verificationTimeout: Duration
    var temporaryErrorRetryPeriod: Duration
    var verifier: SenderVerifierConfiguration

    init(
        _ policy: SenderPolicyOptions, _ authentication: SenderAuthenticationOptions, settings: Settings
    ) throws(ConfigurationError) {
        self.mode = try policy.mode(settings)
        self.verificationTimeout = try policy.verificationTimeout(settings)
        self.temporaryErrorRetryPeriod = try policy.temporaryErrorRetryPeriod(settings)
        self.verifier = try authentication.configuration(settings)
    }

    /// nil with `--sender-policy off`.
    func make() throws(ConfigurationError) -> SenderCheck? {
        guard self.mode != .off else { return nil }
        let verifier: SenderVerifier
        do {
            verifier = try SenderVerifier(configuration: self.verifier)
        } catch {
            throw ConfigurationError(source: "--sender-policy", problem: "sender verification cannot start: \(error)")
        }
        return SenderCheck(
            verifier: verifier,
            configuration: SenderCheckConfiguration(
                mode: self.mode, verificationTimeout: self.verificationTimeout, authservId: self.verifier.authservId,
                temporaryErrorRetryPeriod: self.temporaryErrorRetryPeriod))
    }
}
