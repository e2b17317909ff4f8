import FileIO

/// A durable store of raw messages, addressed by key (`<prefix><message-id>`).
///
/// Implementations: the embedded filesystem store (`<data-dir>/objects/<key>`) and S3.
/// `put` returns only once the object is durable (fsync'd, or acknowledged by S3).
public protocol ObjectStore: Sendable {
    /// The bucket name reported in notifications (`s3.bucket.name`).
    var bucketName: String { get }

    /// Stores `body` under `key` with user metadata (S3 `x-amz-meta-*`). Overwrites an existing key.
    func put(key: String, body: SegmentedBody, metadata: [String: String]) async throws -> StoredObject

    /// The object's bytes and metadata. Throws `BackendError.notFound` for a missing key.
    func get(key: String) async throws -> FetchedObject
}

public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// Hex MD5 of the object, without quotes (S3's ETag for a single-part PUT).
    public var eTag: String

    public init(key: String, size: Int, eTag: String) {
        self.key = key
        self.size = size
        self.eTag = eTag
    }
}

public struct FetchedObject: Sendable {
    public var key: String
    public var bytes: [UInt8]
    public var metadata: [String: String]

    public init(key: String, bytes: [UInt8], metadata: [String: String]) {
        self.key = key
        self.bytes = bytes
        self.metadata = metadata
    }
}
