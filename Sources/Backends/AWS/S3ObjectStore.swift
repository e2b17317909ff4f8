import AWS
import FileIO

/// `ObjectStore` on an S3 bucket: PutObject with the metadata as `x-amz-meta-*`, streamed
/// from the spool file for large messages; GetObject.
public struct S3ObjectStore: ObjectStore {
    public let s3: S3Client
    public let bucketName: String
    public let serverSideEncryption: S3Client.ServerSideEncryption?
    public let contentType: String

    public init(
        s3: S3Client, bucket: String, serverSideEncryption: S3Client.ServerSideEncryption? = nil, contentType: String = "message/rfc822"
    ) {
        self.s3 = s3
        self.bucketName = bucket
        self.serverSideEncryption = serverSideEncryption
        self.contentType = contentType
    }

    public func put(key: String, body: SegmentedBody, metadata: [String: String]) async throws -> StoredObject {
        let output = try await mappingAWSErrors(backend: "s3", operation: "PutObject") {
            try await self.s3.putObject(
                bucket: self.bucketName, key: key, body: body, metadata: metadata, contentType: self.contentType,
                serverSideEncryption: self.serverSideEncryption)
        }
        return StoredObject(key: key, size: body.count, eTag: output.eTag)
    }

    public func get(key: String) async throws -> FetchedObject {
        let object = try await mappingAWSErrors(backend: "s3", operation: "GetObject") {
            try await self.s3.getObject(bucket: self.bucketName, key: key)
        }
        return FetchedObject(key: key, bytes: object.body, metadata: object.metadata)
    }
}
