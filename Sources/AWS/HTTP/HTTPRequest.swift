import FileIO
import Foundation
/// One HTTP request as the transport sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The absolute URL with path and query already percent-encoded.
    public var url: String
    public var headers: HTTPHeaders
    public var body: SegmentedBody
    /// Limit for the whole exchange; `nil` uses the transport's default.
    public var timeout: Duration?

    public init(method: String, url: String, headers: HTTPHeaders = HTTPHeaders(), body: SegmentedBody = .empty, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete response, body in memory.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: self.body, as: UTF8.self) }
}

/// The request never produced an HTTP response: the connection failed, timed out, or was cancelled.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case couldNotConnect
        case timedOut
        /// The connection broke while sending or receiving.
        case connectionLost
        case cancelled
        /// The request itself is unusable (bad URL, unreadable body file).
        case invalidRequest
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether sending the same request again may succeed.
    public var isRetryable: Bool {
        switch self.kind {
        case .couldNotConnect, .timedOut, .connectionLost: true
        case .cancelled, .invalidRequest, .other: false
        }
    }

    public var description: String { "HTTP transport error (\(self.kind)): \(self.message)" }
}

/// Sends HTTP requests. Implementations must not block the caller's thread.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
