import Digest
import Foundation

/// A request body as segments, so that a large object is streamed from its spool file.
public struct HTTPBody: Sendable {
    public enum Segment: Sendable {
        case bytes([UInt8])
        /// `length` bytes of the file at `path` from `offset`.
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

    public init(_ string: String) {
        self.init(bytes: Array(string.utf8))
    }

    public static let empty = HTTPBody(segments: [])

    public var count: Int { self.segments.reduce(0) { $0 + $1.count } }

    /// `digests()` on a thread of its own when the body has file segments, so reading and
    /// hashing a large spool file never holds a cooperative-pool thread.
    public func computeDigests() async throws -> (sha256: [UInt8], md5: [UInt8]) {
        let hasFile = self.segments.contains { if case .file = $0 { true } else { false } }
        guard hasFile else { return try self.digests() }
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try self.digests() }) }
            thread.name = "cis-body-digest"
            thread.start()
        }
    }

    /// SHA-256 (for the signature) and MD5 (for Content-MD5 and the ETag) in one pass,
    /// reading files in chunks rather than loading them.
    public func digests() throws -> (sha256: [UInt8], md5: [UInt8]) {
        let sha256 = Hasher(.sha256)
        let md5 = Hasher(.md5)
        let reader = HTTPBodyReader(self)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { break }
            sha256.update(chunk[0..<count])
            md5.update(chunk[0..<count])
        }
        return (sha256.finalize(), md5.finalize())
    }
}

/// Reads an `HTTPBody` front to back: the transport's upload source.
///
/// Not `Sendable`: it belongs to one transfer on one thread.
public final class HTTPBodyReader {
    private let segments: [HTTPBody.Segment]
    private var segmentIndex = 0
    private var offsetInSegment = 0
    private var openFile: (path: String, descriptor: Int32)?

    public init(_ body: HTTPBody) {
        self.segments = body.segments
    }

    deinit {
        if let file = self.openFile { close(file.descriptor) }
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot read request body from \(self.path): \(self.reason)" }
    }

    /// Fills `buffer` with the next bytes; 0 at the end. Throws when a file is shorter than promised.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count, self.segmentIndex < self.segments.count {
            let segment = self.segments[self.segmentIndex]
            let remaining = segment.count - self.offsetInSegment
            if remaining == 0 {
                self.segmentIndex += 1
                self.offsetInSegment = 0
                continue
            }
            let wanted = min(remaining, buffer.count - written)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + wanted)])
            let got: Int
            switch segment {
            case .bytes(let bytes):
                bytes.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[self.offsetInSegment..<(self.offsetInSegment + wanted)]))
                }
                got = wanted
            case .file(let path, let offset, _):
                let descriptor = try self.descriptor(for: path)
                let result = pread(descriptor, target.baseAddress, wanted, off_t(offset + self.offsetInSegment))
                if result < 0 { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
                if result == 0 { throw ReadError(path: path, reason: "file ends before the promised \(segment.count) bytes") }
                got = result
            }
            self.offsetInSegment += got
            written += got
        }
        return written
    }

    private func descriptor(for path: String) throws -> Int32 {
        if let file = self.openFile, file.path == path { return file.descriptor }
        if let file = self.openFile { close(file.descriptor) }
        self.openFile = nil
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw ReadError(path: path, reason: String(cString: strerror(errno))) }
        self.openFile = (path, descriptor)
        return descriptor
    }
}
