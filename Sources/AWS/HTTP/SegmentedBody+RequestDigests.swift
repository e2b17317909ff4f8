import BlockingWork
import FileIO

extension SegmentedBody {
    /// `digests()`, on the blocking pool when the body has file segments, so that reading
    /// and hashing a large spool file never holds a cooperative-pool thread.
    func computeDigests() async throws -> (sha256: [UInt8], md5: [UInt8]) {
        guard self.hasFileSegments else { return try self.digests() }
        return try await BlockingPool.run { try self.digests() }
    }
}
