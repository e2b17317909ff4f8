import Foundation

/// Where a service is reached: scheme, host, optional port and a base path.
public struct AWSEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix of the endpoint URL without a trailing slash (usually empty).
    public var basePath: String

    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `http(s)://host[:port][/path]`; anything else is a configuration error.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw AWSConfigurationError("invalid endpoint URL \"\(url)\": expected http(s)://host[:port]")
        }
        let path = components.percentEncodedPath
        self.init(
            scheme: scheme, host: host, port: components.port,
            basePath: path.hasSuffix("/") ? String(path.dropLast()) : path)
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let bracketed = self.host.contains(":") ? "[\(self.host)]" : self.host
        guard let port = self.port, port != (self.scheme == "https" ? 443 : 80) else { return bracketed }
        return "\(bracketed):\(port)"
    }

    /// `scheme://host[:port]`.
    public var origin: String { "\(self.scheme)://\(self.hostHeader)" }

    public var description: String { self.origin + self.basePath }
}
