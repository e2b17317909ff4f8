#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a `SegmentedBody` front to back, opening each file segment's file in turn.
///
/// Not `Sendable`: it belongs to one consumer (a store's copy, an upload) on one thread.
/// Reads block; run them on the blocking pool.
public final class SegmentedBodyReader {
    private let segments: [SegmentedBody.Segment]
    private var segmentIndex = 0
    private var offsetInSegment = 0
    private var openFile: FileDescriptor?

    public init(_ body: SegmentedBody) {
        self.segments = body.segments
    }

    /// A file segment promised more bytes than its file holds from its offset.
    public struct ShortFileError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var offset: Int
        public var length: Int
        /// Bytes of the segment that were there.
        public var available: Int

        public var description: String {
            "\(self.path) ended after \(self.available) of \(self.length) bytes at offset \(self.offset)"
        }
    }

    /// Fills `buffer` with the next bytes; 0 at the end. Throws `ShortFileError` when a file
    /// is shorter than its segment, `SystemCallError` when it cannot be read.
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
            case .file(let path, let offset, let length):
                got = try self.file(path).read(into: target, at: offset + self.offsetInSegment)
                if got == 0 {
                    throw ShortFileError(path: path, offset: offset, length: length, available: self.offsetInSegment)
                }
            }
            self.offsetInSegment += got
            written += got
        }
        return written
    }

    /// Reads `body` to its end in chunks of `chunkSize`, handing each to `consume`.
    public static func forEachChunk(
        of body: SegmentedBody, chunkSize: Int = 256 * 1024, _ consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let reader = SegmentedBodyReader(body)
        var chunk = [UInt8](repeating: 0, count: max(1, min(chunkSize, body.count)))
        while true {
            let done = try chunk.withUnsafeMutableBytes { buffer in
                let count = try reader.read(into: buffer)
                if count > 0 { try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
                return count == 0
            }
            if done { return }
        }
    }

    private func file(_ path: String) throws -> FileDescriptor {
        if let file = self.openFile, file.path == path { return file }
        self.openFile = nil
        let file = try FileDescriptor.open(path, flags: O_RDONLY)
        self.openFile = file
        return file
    }
}
