import Digest
import Foundation

/// Message ids: 26 characters of lower-case Crockford base32, a 48-bit millisecond
/// timestamp then 80 random bits (the ULID layout). URL-safe, sortable by time, and
/// random enough never to collide between nodes.
enum MessageIdentifier {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    static func make(at date: Date) -> String {
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        var characters: [UInt8] = []
        characters.reserveCapacity(26)
        for shift in stride(from: 45, through: 0, by: -5) {
            characters.append(self.alphabet[Int((milliseconds >> UInt64(shift)) & 0x1f)])
        }
        let random = Digest.randomBytes(10)
        var bits: UInt64 = 0
        var bitCount = 0
        for byte in random {
            bits = (bits << 8) | UInt64(byte)
            bitCount += 8
            while bitCount >= 5 {
                bitCount -= 5
                characters.append(self.alphabet[Int((bits >> UInt64(bitCount)) & 0x1f)])
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
