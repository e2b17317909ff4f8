#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's own name: in the greeting, the EHLO reply and the `Received:` header.
public enum HostName {
    /// The machine's host name from `gethostname(2)`, without any name lookup.
    public static func local() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Why `text` cannot be our name, or nil: a name is 1 to 255 letters, digits, dots,
    /// hyphens and underscores, or an address literal (`[192.0.2.1]`, `[IPv6:…]`).
    public static func problem(with text: String) -> String? {
        let allowed = text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || ".-_[]:".utf8.contains(byte)
        }
        guard !text.isEmpty, text.utf8.count <= 255, allowed else {
            return "is not a host name (letters, digits, dots, hyphens, or an address literal)"
        }
        return nil
    }
}
