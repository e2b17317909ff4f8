import ArgumentParser
import Foundation
import SenderAuthentication
import SenderVerification

/// `cis verify-sender FILE --client-ip ... --helo ... --mail-from ...`: the SPF, DKIM and
/// DMARC verdicts the consumer would record for one message, through the same verifier.
struct VerifySenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-sender",
        abstract: "Check a message's sender (SPF, DKIM, DMARC, ARC claims) and print its Authentication-Results header and a JSON report.",
        discussion: """
            The SPF identity is --mail-from (or postmaster@ the --helo name when it is empty), \
            checked for --client-ip. Prints the Authentication-Results header, folded, then one \
            line of JSON. Every DNS query goes to --dns-server (or the resolv.conf servers). \
            Exit status 0 whatever the verdicts; 78 for a bad option value.
            """)

    /// Larger than the SMTP listener's default --max-message-size, so any stored message fits.
    static let maximumMessageBytes = 64 << 20

    @Argument(help: "The message (.eml as stored), or - for standard input.")
    var file: String

    @Option(help: "The SMTP client's IP address (IPv4 or IPv6).")
    var clientIp: String

    @Option(help: "The name the client gave in EHLO/HELO.")
    var helo: String = ""

    @Option(help: "The envelope sender (MAIL FROM), empty for the null sender.")
    var mailFrom: String = ""

    @OptionGroup(title: "Sender authentication") var senderAuthentication: SenderAuthenticationOptions

    func run() async throws {
        let configuration: SenderVerifierConfiguration
        let verifier: SenderVerifier
        do {
            configuration = try self.senderAuthentication.configuration(Settings())
            guard DNSServerAddress.isAddress(self.clientIp) else {
                throw ConfigurationError(source: "--client-ip", problem: "'\(self.clientIp)' is not an IPv4 or IPv6 address")
            }
            verifier = try SenderVerifier(configuration: configuration)
        } catch {
            throw Startup.fail("\(error)", exitCode: Startup.configurationExitCode)
        }
        let message = try self.readInput()
        let report = await verifier.verify(
            SenderAuthenticationInput(message: message, clientAddress: self.clientIp, helo: self.helo, mailFrom: self.mailFrom))
        print(report.authenticationResultsHeader(authservId: configuration.authservId).replacingOccurrences(of: "\r\n", with: "\n"))
        var json = report.jsonObject
        json["authentication_results"] = report.authenticationResultsHeader(authservId: configuration.authservId, folded: false)
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    private func readInput() throws -> [UInt8] {
        let handle: FileHandle
        if self.file == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: self.file) else {
                throw Startup.fail("cannot read \(self.file)")
            }
            handle = opened
        }
        let data = try handle.read(upToCount: Self.maximumMessageBytes + 1) ?? Data()
        guard data.count <= Self.maximumMessageBytes else {
            throw Startup.fail("\(self.file) is larger than \(Self.maximumMessageBytes) bytes")
        }
        return [UInt8](data)
    }
}

extension SenderAuthenticationReport {
    /// The report as `cis verify-sender` prints it: SES's verdicts under `receipt`, then the detail.
    var jsonObject: [String: Any] {
        var receipt: [String: Any] = [
            "spfVerdict": ["status": self.spfVerdict.rawValue],
            "dkimVerdict": ["status": self.dkimVerdict.rawValue],
            "dmarcVerdict": ["status": self.dmarcVerdict.rawValue],
        ]
        if let policy = self.dmarcPolicy {
            receipt["dmarcPolicy"] = policy.rawValue
        }
        var spf: [String: Any] = [
            "result": self.spf.result.rawValue, "identity_kind": self.spf.identityKind,
            "identity": self.spf.identity, "domain": self.spf.domain,
        ]
        if let detail = self.spf.detail { spf["detail"] = detail }
        let dkim: [[String: Any]] = self.dkim.map { signature in
            var entry: [String: Any] = [
                "result": signature.result.rawValue, "domain": signature.domain,
                "selector": signature.selector, "algorithm": signature.algorithm,
            ]
            if let reason = signature.reason { entry["reason"] = reason }
            return entry
        }
        var dmarc: [String: Any] = [
            "result": self.dmarc.result.rawValue, "from_domain": self.dmarc.fromDomain,
            "organizational_domain": self.dmarc.organizationalDomain,
        ]
        if let policy = self.dmarc.policy { dmarc["policy"] = policy.rawValue }
        var arc: [String: Any] = ["present": self.arc.present, "sealers": self.arc.sealers, "trusted": self.arc.trusted]
        if let validation = self.arc.chainValidation { arc["chain_validation"] = validation }
        var object: [String: Any] = [
            "receipt": receipt, "spf": spf, "dkim": dkim, "dmarc": dmarc, "arc": arc,
            "client_address": self.clientAddress, "sender_authenticated": self.senderAuthenticated,
            "authenticated_domains": self.authenticatedDomains,
        ]
        if let address = self.fromAddress { object["from_address"] = address }
        if let domain = self.fromDomain { object["from_domain"] = domain }
        return object
    }
}
