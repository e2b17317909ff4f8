import ArgumentParser
import Foundation
import NIOCore
import SMTPServer

/// `--proxy-protocol` and its settings: the SMTP listener behind haproxy or a network load
/// balancer that sends a PROXY protocol header.
struct ProxyProtocolOptions: ParsableArguments {
    @Flag(name: .customLong("proxy-protocol"), inversion: .prefixedNo, help: ArgumentHelp(
        "Every connection must come from --proxy-trusted and start with a PROXY protocol v1 or v2 header, whose client address is then used for limits, logs, Received: and the stored message; anything else is closed without a reply. Env: CIS_PROXY_PROTOCOL (true/false). Default: off."))
    var proxyProtocol: Bool?

    @Option(
        name: .customLong("proxy-trusted"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "Networks the load balancers connect from (ADDRESS or ADDRESS/PREFIX, comma-separated or repeated); required with --proxy-protocol. Env: CIS_PROXY_TRUSTED.",
            valueName: "cidr"))
    var proxyTrusted: [String] = []

    @Option(name: .customLong("proxy-header-timeout"), parsing: .unconditional, help: ArgumentHelp(
        "Seconds a trusted peer has to send the whole PROXY header (at least \(ProxyProtocolConfiguration.minimumHeaderTimeout.wholeSeconds)). Env: CIS_PROXY_HEADER_TIMEOUT. Default: \(ProxyProtocolConfiguration.defaultHeaderTimeout.wholeSeconds).",
        valueName: "seconds"))
    var proxyHeaderTimeout: String?

    /// nil when the PROXY protocol is off.
    func configuration(_ settings: Settings) throws(ConfigurationError) -> ProxyProtocolConfiguration? {
        let enabled = try settings.flag(self.proxyProtocol, flag: "--proxy-protocol", variable: "CIS_PROXY_PROTOCOL")
        let trusted = try self.trustedNetworks(settings)
        let timeout = try settings.value(
            self.proxyHeaderTimeout, flag: "--proxy-header-timeout", variable: "CIS_PROXY_HEADER_TIMEOUT",
            default: ProxyProtocolConfiguration.defaultHeaderTimeout,
            parse: { (text: String) throws(SettingProblem) -> TimeAmount in
                let minimum = ProxyProtocolConfiguration.minimumHeaderTimeout.wholeSeconds
                guard let seconds = Double(text), seconds.isFinite, seconds >= Double(minimum), seconds <= 3600 else {
                    throw SettingProblem("is not a number of seconds between \(minimum) and 3600")
                }
                return .seconds(fractional: seconds)
            })
        guard enabled else {
            if let source = trusted?.source {
                throw ConfigurationError(source: source, problem: "is only used with --proxy-protocol (or CIS_PROXY_PROTOCOL=true)")
            }
            return nil
        }
        guard let trusted else {
            throw ConfigurationError(
                source: "--proxy-protocol",
                problem: "needs --proxy-trusted (or CIS_PROXY_TRUSTED): the networks the load balancers connect from")
        }
        return ProxyProtocolConfiguration(trustedNetworks: trusted.networks, headerTimeout: timeout)
    }

    private func trustedNetworks(_ settings: Settings) throws(ConfigurationError) -> (networks: [ProxyNetwork], source: String)? {
        let source: String
        let texts: [String]
        if !self.proxyTrusted.isEmpty {
            (source, texts) = (
                "--proxy-trusted",
                self.proxyTrusted.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            )
        } else if let list = settings.environment["CIS_PROXY_TRUSTED"], !list.isEmpty {
            (source, texts) = ("CIS_PROXY_TRUSTED", list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        } else {
            return nil
        }
        var networks: [ProxyNetwork] = []
        for text in texts {
            do {
                networks.append(try ProxyNetwork.parse(text))
            } catch {
                throw ConfigurationError(source: source, problem: "'\(text)' \(error.problem)")
            }
        }
        return (networks, source)
    }
}
