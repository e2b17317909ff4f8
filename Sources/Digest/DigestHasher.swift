import Foundation
internal import CLibcrypto

/// Incremental MD5 or SHA-256 over OpenSSL's EVP interface.
///
/// Not `Sendable`: one instance belongs to one task at a time.
public final class DigestHasher {
    public enum Algorithm: Sendable {
        case md5
        case sha256
    }

    private let context: OpaquePointer

    public init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new failed: out of memory")
        }
        self.context = context
        let md: OpaquePointer? =
            switch algorithm {
            case .md5: EVP_md5()
            case .sha256: EVP_sha256()
            }
        precondition(EVP_DigestInit_ex(context, md, nil) == 1, "EVP_DigestInit_ex failed")
    }

    deinit {
        EVP_MD_CTX_free(self.context)
    }

    public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return }
            precondition(EVP_DigestUpdate(self.context, base, buffer.count) == 1, "EVP_DigestUpdate failed")
        }
    }

    public func update(_ string: String) {
        self.update(Array(string.utf8))
    }

    /// The digest; the hasher cannot be updated afterwards.
    public func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(self.context, &output, &length) == 1, "EVP_DigestFinal_ex failed")
        return Array(output.prefix(Int(length)))
    }
}
