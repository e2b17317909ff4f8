/// The v2 binary header (§2.2): the 12-byte signature, version and command, family and
/// transport, a 16-bit length, then the addresses and TLVs.
enum ProxyHeaderV2 {
    private enum Command: UInt8 {
        case local = 0x0
        case proxy = 0x1
    }

    /// `PP2_TYPE_CRC32C` (§2.2.3); every other TLV type is skipped.
    private static let crc32cType: UInt8 = 0x03

    static func evaluate(_ bytes: [UInt8], maximumTLVBytes: Int) -> ProxyHeaderDecoder.Evaluation {
        let fixed = ProxyHeaderDecoder.v2FixedLength
        if bytes.count > 12 {
            guard bytes[12] >> 4 == 2 else {
                return .invalid(ProxyHeaderError(.unsupportedVersion, "version \(bytes[12] >> 4) (only 2 is defined)"))
            }
            guard Command(rawValue: bytes[12] & 0x0F) != nil else {
                return .invalid(ProxyHeaderError(.unknownCommand, "command \(bytes[12] & 0x0F) (LOCAL is 0, PROXY 1)"))
            }
        }
        guard bytes.count >= fixed else { return .incomplete }
        let command = Command(rawValue: bytes[12] & 0x0F)!
        let family = bytes[13] >> 4
        let transport = bytes[13] & 0x0F
        let length = Int(bytes[14]) << 8 | Int(bytes[15])

        // LOCAL: "discard the protocol block including the family which is ignored".
        let addressLength: Int?
        if command == .local {
            addressLength = nil
        } else {
            guard family <= 3 else {
                return .invalid(ProxyHeaderError(.unknownFamily, "address family \(family) (0-3 are defined)"))
            }
            guard transport <= 2 else {
                return .invalid(ProxyHeaderError(.unknownFamily, "transport protocol \(transport) (0-2 are defined)"))
            }
            addressLength = family == 0 || transport == 0 ? nil : [0, 12, 36, 216][Int(family)]
        }
        // The most a header may announce: the largest address block (AF_UNIX) when the
        // block's layout is not known, plus the TLV allowance.
        let allowed = (addressLength ?? 216) + maximumTLVBytes
        guard length <= allowed else {
            return .invalid(ProxyHeaderError(.headerTooLong, "\(length) bytes after the fixed header (at most \(allowed) accepted)"))
        }
        if let addressLength, length < addressLength {
            return .invalid(ProxyHeaderError(
                .addressLengthMismatch, "length \(length) is shorter than the \(addressLength) bytes of family \(family) addresses"))
        }
        guard bytes.count >= fixed + length else { return .incomplete }
        let header = Array(bytes[..<(fixed + length)])

        guard command == .proxy, let addressLength else {
            let reason: ProxyHeader.NoAddressReason = command == .local ? .local : .unsupportedFamily
            return .complete(ProxyHeader(version: .v2, addresses: .connectionAddresses(reason), length: header.count))
        }
        if let error = Self.checkTLVs(header, from: fixed + addressLength) {
            return .invalid(error)
        }
        guard family == 1 || family == 2, transport == 1 else {
            return .complete(ProxyHeader(version: .v2, addresses: .connectionAddresses(.unsupportedFamily), length: header.count))
        }
        let size = family == 1 ? 4 : 16
        let source = Array(header[fixed..<(fixed + size)])
        let destination = Array(header[(fixed + size)..<(fixed + 2 * size)])
        let ports = fixed + 2 * size
        let sourcePort = UInt16(header[ports]) << 8 | UInt16(header[ports + 1])
        let destinationPort = UInt16(header[ports + 2]) << 8 | UInt16(header[ports + 3])
        return .complete(ProxyHeader(
            version: .v2,
            addresses: .proxied(
                source: .init(address: source, port: sourcePort), destination: .init(address: destination, port: destinationPort)),
            length: header.count))
    }

    /// Walks the TLVs (type, 16-bit length, value) to the end of the header: each must fit,
    /// and a CRC32C TLV must match the header. Unknown types are skipped.
    private static func checkTLVs(_ header: [UInt8], from start: Int) -> ProxyHeaderError? {
        var offset = start
        while offset < header.count {
            guard header.count - offset >= 3 else {
                return ProxyHeaderError(.truncatedTLV, "\(header.count - offset) bytes left at offset \(offset), too few for a TLV")
            }
            let type = header[offset]
            let length = Int(header[offset + 1]) << 8 | Int(header[offset + 2])
            let value = offset + 3
            guard header.count - value >= length else {
                return ProxyHeaderError(
                    .truncatedTLV, "TLV type 0x\(String(type, radix: 16)) of \(length) bytes runs past the header's end")
            }
            if type == Self.crc32cType {
                guard length == 4 else {
                    return ProxyHeaderError(.checksumMismatch, "CRC32C TLV of \(length) bytes (4 expected)")
                }
                let stated = header[value..<(value + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                var zeroed = header
                zeroed.replaceSubrange(value..<(value + 4), with: [0, 0, 0, 0])
                let computed = CRC32C.checksum(zeroed)
                guard stated == computed else {
                    return ProxyHeaderError(
                        .checksumMismatch,
                        "CRC32C 0x\(String(stated, radix: 16)) stated, 0x\(String(computed, radix: 16)) computed")
                }
            }
            offset = value + length
        }
        return nil
    }
}
