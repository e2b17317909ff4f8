/// RFC 5545 §3.1 content-line unfolding on bytes.
enum Unfolding {
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
}
