import Digest
import Foundation

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// The stages are separate functions named after AWS's documented steps, each with an
/// injectable date, so tests can compare every intermediate string.
public struct SigV4Signer: Sendable {
    public struct Options: Sendable, Equatable {
        /// Remove `.`/`..`/empty path segments before signing (every service but S3).
        public var normalizePath: Bool
        /// Percent-encode the already encoded path once more (every service but S3).
        public var doubleEncodePath: Bool
        /// Add `x-amz-content-sha256` with the payload hash (S3 requires it).
        public var addContentSHA256Header: Bool
        /// Add `X-Amz-Security-Token` after signing instead of signing it (a few services want this).
        public var omitSessionTokenFromSignature: Bool

        public init(
            normalizePath: Bool = true, doubleEncodePath: Bool = true,
            addContentSHA256Header: Bool = false, omitSessionTokenFromSignature: Bool = false
        ) {
            self.normalizePath = normalizePath
            self.doubleEncodePath = doubleEncodePath
            self.addContentSHA256Header = addContentSHA256Header
            self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
        }

        /// S3: path signed as sent, and the payload hash header.
        public static let s3 = Options(normalizePath: false, doubleEncodePath: false, addContentSHA256Header: true)
        public static let standard = Options()
    }

    /// Headers never signed: proxies and clients add or change them.
    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "transfer-encoding", "connection"]

    public static let algorithm = "AWS4-HMAC-SHA256"

    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    public var options: Options

    public init(credentials: AWSCredentials, region: String, service: String, options: Options = .standard) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// Adds `X-Amz-Date`, the session token, `x-amz-content-sha256` when asked, and `Authorization`.
    public func sign(_ request: inout SigV4Request, payload: SigV4Payload, date: Date = Date()) {
        let timestamp = SigV4Timestamp(date)
        request.headers.replaceOrAdd(name: "X-Amz-Date", value: timestamp.amzDate)
        if self.options.addContentSHA256Header {
            request.headers.replaceOrAdd(name: "x-amz-content-sha256", value: payload.canonicalValue)
        }
        if let token = self.credentials.sessionToken, !self.options.omitSessionTokenFromSignature {
            request.headers.replaceOrAdd(name: "X-Amz-Security-Token", value: token)
        }
        let canonical = self.canonicalRequest(request, payload: payload)
        let toSign = self.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let signature = self.signature(stringToSign: toSign, timestamp: timestamp)
        request.headers.replaceOrAdd(
            name: "Authorization",
            value: self.authorization(signature: signature, signedHeaders: self.signedHeaderNames(request), timestamp: timestamp))
        if let token = self.credentials.sessionToken, self.options.omitSessionTokenFromSignature {
            request.headers.replaceOrAdd(name: "X-Amz-Security-Token", value: token)
        }
    }

    /// Step 1: method, canonical path, canonical query, canonical headers, signed header names, payload hash.
    public func canonicalRequest(_ request: SigV4Request, payload: SigV4Payload) -> String {
        [
            request.method,
            self.canonicalPath(request.path),
            SigV4Encoding.canonicalQuery(request.query),
            self.canonicalHeaders(request),
            self.signedHeaderNames(request),
            payload.canonicalValue,
        ].joined(separator: "\n")
    }

    /// Step 2: algorithm, time, credential scope, and the hex SHA-256 of the canonical request.
    public func stringToSign(canonicalRequest: String, timestamp: SigV4Timestamp) -> String {
        [
            Self.algorithm,
            timestamp.amzDate,
            self.credentialScope(timestamp),
            Digest.sha256(canonicalRequest).hexString,
        ].joined(separator: "\n")
    }

    /// Step 3: HMAC of the string to sign with the key derived for the day, region and service.
    public func signature(stringToSign: String, timestamp: SigV4Timestamp) -> String {
        let dateKey = Digest.hmacSHA256(key: Array("AWS4\(self.credentials.secretAccessKey)".utf8), timestamp.dateStamp)
        let regionKey = Digest.hmacSHA256(key: dateKey, self.region)
        let serviceKey = Digest.hmacSHA256(key: regionKey, self.service)
        let signingKey = Digest.hmacSHA256(key: serviceKey, "aws4_request")
        return Digest.hmacSHA256(key: signingKey, stringToSign).hexString
    }

    public func authorization(signature: String, signedHeaders: String, timestamp: SigV4Timestamp) -> String {
        "\(Self.algorithm) Credential=\(self.credentials.accessKeyId)/\(self.credentialScope(timestamp)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    public func credentialScope(_ timestamp: SigV4Timestamp) -> String {
        "\(timestamp.dateStamp)/\(self.region)/\(self.service)/aws4_request"
    }

    func canonicalPath(_ path: String) -> String {
        let normalized = self.options.normalizePath ? SigV4Encoding.normalizedPath(path) : path
        let encoded = SigV4Encoding.percentEncode(normalized.isEmpty ? "/" : normalized, keepingSlash: true)
        return self.options.doubleEncodePath ? SigV4Encoding.percentEncode(encoded, keepingSlash: true) : encoded
    }

    /// Lower-case names in order, values trimmed with inner whitespace runs (line folds included)
    /// collapsed to one space, repeated fields joined with commas.
    func canonicalHeaders(_ request: SigV4Request) -> String {
        self.signedFields(request)
            .map { "\($0.name):\($0.values.joined(separator: ","))\n" }
            .joined()
    }

    func signedHeaderNames(_ request: SigV4Request) -> String {
        self.signedFields(request).map(\.name).joined(separator: ";")
    }

    private func signedFields(_ request: SigV4Request) -> [(name: String, values: [String])] {
        var grouped: [String: [String]] = [:]
        for field in request.headers {
            let name = field.name.lowercased()
            if Self.unsignedHeaders.contains(name) { continue }
            if self.options.omitSessionTokenFromSignature && name == "x-amz-security-token" { continue }
            grouped[name, default: []].append(Self.collapseWhitespace(field.value))
        }
        return grouped.keys.sorted().map { ($0, grouped[$0]!) }
    }

    static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
