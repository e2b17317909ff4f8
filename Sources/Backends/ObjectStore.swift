/// A durable store of raw messages, addressed by key (`<prefix><message-id>`).
///
/// Implementations: the embedded filesystem store (`<data-dir>/objects/<key>`) and S3.
/// `put` returns only once the object is durable (fsync'd, or acknowledged by S3).
public protocol ObjectStore: Sendable {
    /// The bucket name reported in notifications (`s3.bucket.name`).
    var bucketName: String { get }

    /// Stores `body` under `key` with user metadata (S3 `x-amz-meta-*`). Overwrites an existing key.
    func put(key: String, body: ObjectBody, metadata: [String: String]) async throws -> StoredObject

    /// The object's bytes and metadata. Throws `BackendError.notFound` for a missing key.
    func get(key: String) async throws -> FetchedObject
}

/// The bytes of an object, as a sequence of segments, so that a large message
/// spooled to disk is streamed from its file rather than held in memory.
public struct ObjectBody: Sendable {
    public enum Segment: Sendable {
        case bytes([UInt8])
        /// `length` bytes of the file at `path`, starting at `offset`.
        case file(path: String, offset: Int, length: Int)

        public var count: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .file(_, _, let length): length
            }
        }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) {
        self.segments = segments
    }

    public init(bytes: [UInt8]) {
        self.segments = [.bytes(bytes)]
    }

    /// Total size in bytes.
    public var count: Int { self.segments.reduce(0) { $0 + $1.count } }
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
