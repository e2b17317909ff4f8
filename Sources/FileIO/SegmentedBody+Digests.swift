import Digest
import Foundation

extension SegmentedBody {
    /// SHA-256 (for a SigV4 signature) and MD5 (for Content-MD5 and the ETag) in one pass,
    /// reading files in chunks rather than loading them. Blocks on file reads.
    public func digests() throws -> (sha256: [UInt8], md5: [UInt8]) {
        let sha256 = DigestHasher(.sha256)
        let md5 = DigestHasher(.md5)
        try SegmentedBodyReader.forEachChunk(of: self, chunkSize: 1 << 20) { chunk in
            sha256.update(chunk)
            md5.update(chunk)
        }
        return (sha256.finalize(), md5.finalize())
    }
}
