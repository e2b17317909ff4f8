import Digest

/// SNS FIFO's rules for `MessageDeduplicationId` and `MessageGroupId`: at most 128
/// characters, each an ASCII letter, digit or punctuation mark.
public enum DeduplicationId {
    public static let maximumLength = 128

    /// `id` itself when SNS takes it, else `sha256-` and the hex SHA-256 of its UTF-8 bytes
    /// (71 characters), so that equal ids still give equal results.
    public static func fitting(_ id: String) -> String {
        if id.utf8.count <= Self.maximumLength, !id.isEmpty, id.utf8.allSatisfy(Self.isAllowed) { return id }
        return "sha256-" + Digest.sha256(id).hexString
    }

    /// `!` through `~`: letters, digits and punctuation, no space or control character.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte)
    }
}
