/// Line-end repair for mail written with bare CR line ends (old Mac and Exchange CDO output).
enum LineEnds {
    /// `bytes` with every CR that is not part of CRLF turned into LF, when bare CRs
    /// outnumber LFs (the CR is then the line end); otherwise `bytes` unchanged.
    static func repairingBareCR(_ bytes: [UInt8]) -> [UInt8] {
        var bareCR = 0
        var lineFeeds = 0
        for index in bytes.indices {
            if bytes[index] == 0x0A {
                lineFeeds += 1
            } else if bytes[index] == 0x0D, index + 1 == bytes.count || bytes[index + 1] != 0x0A {
                bareCR += 1
            }
        }
        guard bareCR > lineFeeds else { return bytes }
        return Self.normalized(bytes)
    }

    /// Every CRLF and every bare CR turned into LF: the one line end libical splits on.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                result.append(0x0A)
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
            } else {
                result.append(byte)
            }
            index += 1
        }
        return result
    }
}
