import Foundation
import Digest
/// The parts of an HTTP request that a SigV4 signature covers.
///
/// `path` and the query items are *decoded*: the signer percent-encodes them, and the
/// transport sends exactly the encoding the signature covered (`encodedPath`, `encodedQuery`).
public struct SigV4Request: Sendable {
    public struct QueryItem: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    public var path: String
    public var query: [QueryItem]
    public var headers: HTTPHeaders

    public init(method: String, path: String, query: [QueryItem] = [], headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The path as sent on the wire: each byte outside RFC 3986's unreserved set and `/` percent-encoded.
    public var encodedPath: String {
        SigV4Encoding.percentEncode(self.path, keepingSlash: true)
    }

    /// The query as sent on the wire, in the canonical (sorted) order; empty when there is none.
    public var encodedQuery: String {
        SigV4Encoding.canonicalQuery(self.query)
    }
}

/// What the signature says about the body (the last line of the canonical request).
public enum SigV4Payload: Sendable, Equatable {
    /// The hex SHA-256 of the body, computed by the caller (possibly while streaming a file).
    case sha256Hex(String)
    /// `UNSIGNED-PAYLOAD`: S3 over TLS only; the body's integrity is left to TLS and Content-MD5.
    case unsigned

    public static let emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public static func hashing(_ bytes: [UInt8]) -> SigV4Payload {
        .sha256Hex(Digest.sha256(bytes).hexString)
    }

    var canonicalValue: String {
        switch self {
        case .sha256Hex(let hex): hex
        case .unsigned: "UNSIGNED-PAYLOAD"
        }
    }
}
