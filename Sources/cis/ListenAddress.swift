import NIOCore

/// `HOST:PORT` for `--listen`: an IPv4 address, `[IPv6]`, or `localhost`, and a port
/// (0 picks a free one). No other names, so starting never needs DNS.
struct ListenAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    static func parse(_ text: String) throws(SettingProblem) -> ListenAddress {
        let problem = SettingProblem("is not HOST:PORT (an IP address or localhost, and a port 0-65535)")
        guard let colon = text.lastIndex(of: ":") else { throw problem }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw problem }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        if host == "localhost" {
            host = "127.0.0.1"
        }
        guard (try? SocketAddress(ipAddress: host, port: port)) != nil else { throw problem }
        return ListenAddress(host: host, port: port)
    }

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}
