/// RFC 5545 §3.1 content-line folding and unfolding on bytes.
enum ContentLineFolding {
    /// Octets per line `folded` keeps, as RFC 5545 recommends.
    static let lineLength = 75

    /// `bytes` with every line break followed by a space or tab removed, together with that
    /// space or tab. A fold may fall inside a multi-octet UTF-8 character, so calendar text is
    /// unfolded before it is decoded. CRLF, LF and bare CR line breaks are all recognised.
    static func unfolded(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D || byte == 0x0A {
                var next = index + 1
                if byte == 0x0D, next < bytes.count, bytes[next] == 0x0A { next += 1 }
                if next < bytes.count, bytes[next] == 0x20 || bytes[next] == 0x09 {
                    index = next + 1
                    continue
                }
            }
            result.append(byte)
            index += 1
        }
        return result
    }

    /// LF-separated `lines` with every line longer than `lineLength` octets folded, never
    /// inside a UTF-8 character. libical's line reader takes time that grows with the square
    /// of a line's length, while it joins folded lines cheaply: so calendar text, unfolded to
    /// be decoded, is folded again before libical reads it.
    static func folded(_ lines: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(lines.count + lines.count / Self.lineLength * 2)
        var lineOctets = 0
        for byte in lines {
            if byte == 0x0A {
                lineOctets = 0
            } else if lineOctets >= Self.lineLength, byte & 0xC0 != 0x80 {
                result.append(0x0A)
                result.append(0x20)
                lineOctets = 1
            } else {
                lineOctets += 1
            }
            result.append(byte)
        }
        return result
    }
}
