import Digest
import FileIO
import Foundation

/// S3 PutObject, GetObject and HeadObject: what the drop box and the consumer need.
public struct S3Client: Sendable {
    public let client: AWSServiceClient
    /// `/<bucket>/<key>` on the endpoint instead of `<bucket>.<endpoint>/<key>`.
    public let pathStyle: Bool

    public init(client: AWSServiceClient, pathStyle: Bool) {
        self.client = client
        self.pathStyle = pathStyle
    }

    /// The SSE header values: `AES256`, or `aws:kms` with an optional key id.
    public enum ServerSideEncryption: Sendable, Equatable {
        case aes256
        case kms(keyId: String?)
    }

    public struct PutObjectOutput: Sendable, Equatable {
        /// Without quotes.
        public var eTag: String
        public var versionId: String?
    }

    public struct Object: Sendable {
        public var body: [UInt8]
        /// `x-amz-meta-*` without the prefix, names lower-cased (as S3 returns them).
        public var metadata: [String: String]
        public var eTag: String
        public var contentType: String?
    }

    public struct ObjectHead: Sendable, Equatable {
        public var size: Int
        public var eTag: String
        public var metadata: [String: String]
        public var contentType: String?
        public var serverSideEncryption: String?
    }

    /// Stores `body` (read twice from its files: once for the SHA-256 and MD5, once to send).
    /// S3 checks both the signed SHA-256 and `Content-MD5`, so a changed spool file fails the PUT.
    public func putObject(
        bucket: String, key: String, body: SegmentedBody, metadata: [String: String] = [:],
        contentType: String? = nil, serverSideEncryption: ServerSideEncryption? = nil
    ) async throws -> PutObjectOutput {
        let (sha256, md5) = try await body.computeDigests()
        var headers = HTTPHeaders()
        headers.add(name: "Content-MD5", value: Data(md5).base64EncodedString())
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            headers.add(name: "x-amz-meta-\(name.lowercased())", value: S3MetadataValue.encode(value))
        }
        switch serverSideEncryption {
        case .aes256:
            headers.add(name: "x-amz-server-side-encryption", value: "AES256")
        case .kms(let keyId):
            headers.add(name: "x-amz-server-side-encryption", value: "aws:kms")
            if let keyId { headers.add(name: "x-amz-server-side-encryption-aws-kms-key-id", value: keyId) }
        case nil:
            break
        }
        let response = try await self.client.send(
            self.call(
                "PutObject", method: "PUT", bucket: bucket, key: key, headers: headers, body: body,
                payload: .sha256Hex(sha256.hexString), timeout: Self.transferTimeout(bytes: body.count)))
        return PutObjectOutput(
            eTag: Self.unquote(response.headers["ETag"]) ?? md5.hexString, versionId: response.headers["x-amz-version-id"])
    }

    public func getObject(bucket: String, key: String) async throws -> Object {
        let response = try await self.client.send(self.call("GetObject", method: "GET", bucket: bucket, key: key))
        return Object(
            body: response.body, metadata: Self.metadata(response.headers), eTag: Self.unquote(response.headers["ETag"]) ?? "",
            contentType: response.headers["Content-Type"])
    }

    public func headObject(bucket: String, key: String) async throws -> ObjectHead {
        let response = try await self.client.send(self.call("HeadObject", method: "HEAD", bucket: bucket, key: key))
        return ObjectHead(
            size: Int(response.headers["Content-Length"] ?? "") ?? 0, eTag: Self.unquote(response.headers["ETag"]) ?? "",
            metadata: Self.metadata(response.headers), contentType: response.headers["Content-Type"],
            serverSideEncryption: response.headers["x-amz-server-side-encryption"])
    }

    /// Path-style when configured, and for bucket names with dots over TLS (they break the wildcard certificate).
    func call(
        _ operation: String, method: String, bucket: String, key: String, headers: HTTPHeaders = HTTPHeaders(),
        body: SegmentedBody = .empty, payload: SigV4Payload? = nil, timeout: Duration? = nil
    ) -> AWSServiceClient.Call {
        let usePathStyle = self.pathStyle || (bucket.contains(".") && self.client.endpoint.scheme == "https")
        return AWSServiceClient.Call(
            operation: operation, method: method, path: usePathStyle ? "/\(bucket)/\(key)" : "/\(key)",
            headers: headers, body: body, payload: payload, hostPrefix: usePathStyle ? "" : "\(bucket).", timeout: timeout)
    }

    /// At least a minute, plus a second per MB: a 30 MB spool file must not hit the default limit.
    static func transferTimeout(bytes: Int) -> Duration {
        .seconds(60 + bytes / 1_000_000)
    }

    static func unquote(_ eTag: String?) -> String? {
        eTag.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    }

    static func metadata(_ headers: HTTPHeaders) -> [String: String] {
        var metadata: [String: String] = [:]
        for field in headers where field.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(field.name.lowercased().dropFirst("x-amz-meta-".count))] = S3MetadataValue.decode(field.value)
        }
        return metadata
    }
}

/// S3 metadata travels in HTTP headers, so values must be printable ASCII. Others are sent as
/// RFC 2047 `=?UTF-8?B?…?=` words (what S3's console and SDK docs recommend) and decoded on read.
enum S3MetadataValue {
    static func encode(_ value: String) -> String {
        let printable = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
        return printable ? value : "=?UTF-8?B?\(Data(value.utf8).base64EncodedString())?="
    }

    static func decode(_ value: String) -> String {
        guard value.hasPrefix("=?UTF-8?B?"), value.hasSuffix("?="),
            let data = Data(base64Encoded: String(value.dropFirst(10).dropLast(2))),
            let decoded = String(data: data, encoding: .utf8)
        else { return value }
        return decoded
    }
}
