import Foundation
internal import CLibcrypto

/// One-shot digests and HMAC.
public enum Digest {
    public static func md5<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        let hasher = DigestHasher(.md5)
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func sha256<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        let hasher = DigestHasher(.sha256)
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func sha256(_ string: String) -> [UInt8] {
        sha256(Array(string.utf8))
    }

    public static func hmacSHA256<Key: ContiguousBytes, Bytes: ContiguousBytes>(key: Key, _ bytes: Bytes) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { keyBuffer in
            bytes.withUnsafeBytes { dataBuffer in
                let data = dataBuffer.bindMemory(to: UInt8.self)
                let result = HMAC(
                    EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                    data.baseAddress, data.count, &output, &length)
                precondition(result != nil, "HMAC failed")
            }
        }
        return Array(output.prefix(Int(length)))
    }

    public static func hmacSHA256<Key: ContiguousBytes>(key: Key, _ string: String) -> [UInt8] {
        hmacSHA256(key: key, Array(string.utf8))
    }

    /// `count` cryptographically random bytes. Small counts (ids, names) come from
    /// `RandomBytePool`, which draws from OpenSSL 4 KiB at a time.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        if count <= RandomBytePool.largestDraw { return RandomBytePool.shared.take(count) }
        return self.randomBytesFromOpenSSL(count)
    }

    static func randomBytesFromOpenSSL(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "RAND_bytes failed")
        return bytes
    }

    /// A version 4 UUID from `randomBytes`.
    public static func randomUUID() -> UUID {
        var bytes = self.randomBytes(16)
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(self.count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
