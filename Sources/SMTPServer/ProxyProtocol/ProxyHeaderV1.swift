/// The v1 text line (§2.1): `PROXY TCP4|TCP6 <source> <destination> <source port>
/// <destination port> CRLF`, or `PROXY UNKNOWN … CRLF`, at most 107 bytes.
enum ProxyHeaderV1 {
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    static func evaluate(_ bytes: [UInt8]) -> ProxyHeaderDecoder.Evaluation {
        let limit = ProxyHeaderDecoder.maximumV1Length
        let tooLong = ProxyHeaderDecoder.Evaluation.invalid(
            ProxyHeaderError(.lineTooLong, "no CRLF within the first \(limit) bytes of the v1 line"))
        for index in bytes.indices {
            let byte = bytes[index]
            if byte == Self.cr {
                guard index + 2 <= limit else { return tooLong }
                guard index + 1 < bytes.count else { return .incomplete }
                guard bytes[index + 1] == Self.lf else {
                    return .invalid(ProxyHeaderError(.badCharacter, "a CR without LF at byte \(index + 1) of the v1 line"))
                }
                return Self.parse(bytes[..<index], length: index + 2)
            }
            guard byte >= 0x20, byte < 0x7F else {
                let what = byte == Self.lf ? "an LF without CR" : "the byte 0x\(String(byte, radix: 16))"
                return .invalid(ProxyHeaderError(.badCharacter, "\(what) at byte \(index + 1) of the v1 line"))
            }
            // After this byte there must still be room for the CRLF.
            guard index + 2 < limit else { return tooLong }
        }
        return .incomplete
    }

    /// The line without its CRLF.
    private static func parse(_ line: ArraySlice<UInt8>, length: Int) -> ProxyHeaderDecoder.Evaluation {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let malformed = { (problem: String) in ProxyHeaderDecoder.Evaluation.invalid(ProxyHeaderError(.malformedLine, problem)) }
        guard fields.count >= 2 else { return malformed("no protocol family") }
        let addressBytes: Int
        switch fields[1] {
        case "UNKNOWN":
            // "the receiver must ignore anything presented before the CRLF is found"
            return .complete(ProxyHeader(version: .v1, addresses: .connectionAddresses(.unknown), length: length))
        case "TCP4": addressBytes = 4
        case "TCP6": addressBytes = 16
        default:
            return .invalid(ProxyHeaderError(.unknownFamily, "unknown protocol family '\(fields[1])' (TCP4, TCP6 or UNKNOWN)"))
        }
        guard fields.count == 6 else {
            return malformed("\(fields[1]) needs source, destination, source port and destination port, each after one space")
        }
        let parseAddress = addressBytes == 4 ? IPAddressText.ipv4 : IPAddressText.ipv6
        guard let source = parseAddress(fields[2]) else { return malformed("'\(fields[2])' is not a \(fields[1]) address") }
        guard let destination = parseAddress(fields[3]) else { return malformed("'\(fields[3])' is not a \(fields[1]) address") }
        guard let sourcePort = Self.port(fields[4]) else { return malformed("'\(fields[4])' is not a port") }
        guard let destinationPort = Self.port(fields[5]) else { return malformed("'\(fields[5])' is not a port") }
        return .complete(ProxyHeader(
            version: .v1,
            addresses: .proxied(
                source: .init(address: source, port: sourcePort), destination: .init(address: destination, port: destinationPort)),
            length: length))
    }

    /// 0-65535 in decimal without leading zeros.
    private static func port(_ text: String) -> UInt16? {
        guard let number = IPAddressText.decimal(Substring(text), maximumDigits: 5), number <= 65535 else { return nil }
        return UInt16(number)
    }
}

/// Strict text forms of IP addresses, as §2.1 defines them: IPv4 as four decimal numbers
/// 0-255 without leading zeros; IPv6 as colon-separated groups of 1-4 hex digits with at
/// most one `::`, optionally ending in an IPv4 address, 128 bits in all.
enum IPAddressText {
    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let number = Self.decimal(part, maximumDigits: 3), number <= 255 else { return nil }
            bytes.append(UInt8(number))
        }
        return bytes
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count >= 2, characters.count <= 45 else { return nil }
        let doubleColon = (0..<(characters.count - 1)).first { characters[$0] == 0x3A && characters[$0 + 1] == 0x3A }
        if let doubleColon {
            let head = Array(characters[..<doubleColon])
            let tail = Array(characters[(doubleColon + 2)...])
            guard let headGroups = Self.groups(head, ipv4Tail: false), let tailGroups = Self.groups(tail, ipv4Tail: true),
                headGroups.count + tailGroups.count <= 7
            else { return nil }
            let groups = headGroups + [UInt16](repeating: 0, count: 8 - headGroups.count - tailGroups.count) + tailGroups
            return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        }
        guard let groups = Self.groups(characters, ipv4Tail: true), groups.count == 8 else { return nil }
        return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Colon-separated groups (none for empty text); a second `::` or an empty group fails.
    private static func groups(_ characters: [UInt8], ipv4Tail: Bool) -> [UInt16]? {
        if characters.isEmpty { return [] }
        let parts = characters.split(separator: 0x3A, omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if ipv4Tail, index == parts.count - 1, part.contains(UInt8(ascii: ".")) {
                guard let ipv4 = Self.ipv4(String(decoding: part, as: UTF8.self)) else { return nil }
                groups += [UInt16(ipv4[0]) << 8 | UInt16(ipv4[1]), UInt16(ipv4[2]) << 8 | UInt16(ipv4[3])]
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var value: UInt16 = 0
            for character in part {
                guard let digit = Self.hexDigit(character) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            groups.append(value)
        }
        return groups
    }

    private static func hexDigit(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Decimal digits only, no sign, no leading zero (but "0" itself).
    static func decimal(_ text: Substring, maximumDigits: Int) -> Int? {
        let digits = Array(text.utf8)
        guard (1...maximumDigits).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        guard digits.count == 1 || digits[0] != 0x30 else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}
