/// Bytes as a list of segments, each in memory or a range of a file, so that a large
/// message spooled to disk is stored or uploaded from its file rather than held in memory.
/// The object stores take it as an object's body, the AWS transport as a request body.
public struct SegmentedBody: Sendable {
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
        self.segments = bytes.isEmpty ? [] : [.bytes(bytes)]
    }

    /// The string's UTF-8 bytes.
    public init(_ string: String) {
        self.init(bytes: Array(string.utf8))
    }

    public static let empty = SegmentedBody(segments: [])

    /// Total size in bytes.
    public var count: Int { self.segments.reduce(0) { $0 + $1.count } }

    public var hasFileSegments: Bool {
        self.segments.contains { if case .file = $0 { true } else { false } }
    }

    /// All the bytes in one array, when every segment is in memory and there are at most `limit`.
    public func inMemoryBytes(limit: Int) -> [UInt8]? {
        guard !self.hasFileSegments, self.count <= limit else { return nil }
        if self.segments.count == 1, case .bytes(let bytes) = self.segments[0] { return bytes }
        var joined: [UInt8] = []
        joined.reserveCapacity(self.count)
        for case .bytes(let bytes) in self.segments { joined += bytes }
        return joined
    }
}
