import NIOCore
import Testing

@testable import SMTPServer

private let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

/// A v2 header: the signature, version/command, family/transport, the length of `payload`, `payload`.
private func v2(_ versionCommand: UInt8, _ familyTransport: UInt8, _ payload: [UInt8], length: Int? = nil) -> [UInt8] {
    let length = length ?? payload.count
    return signature + [versionCommand, familyTransport, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
}

private func tlv(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
    [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
}

/// TCP over IPv4 from 192.0.2.7:40000 to 198.51.100.1:25.
private let tcp4Addresses: [UInt8] = [192, 0, 2, 7, 198, 51, 100, 1, 0x9C, 0x40, 0x00, 0x19]

private func decode(_ bytes: [UInt8], maximumTLVBytes: Int = ProxyHeaderDecoder.defaultMaximumTLVBytes) -> ProxyHeaderDecoder.Action {
    var decoder = ProxyHeaderDecoder(maximumTLVBytes: maximumTLVBytes)
    return decoder.bytesReceived(ByteBuffer(bytes: bytes))
}

private func decode(_ text: String) -> ProxyHeaderDecoder.Action {
    decode(Array(text.utf8))
}

private func rejection(_ action: ProxyHeaderDecoder.Action) -> ProxyHeaderError.Kind? {
    if case .reject(let error) = action { error.kind } else { nil }
}

private func accepted(_ action: ProxyHeaderDecoder.Action) -> (header: ProxyHeader, remainder: String)? {
    if case .accept(let header, let remainder) = action { (header, String(buffer: remainder)) } else { nil }
}

private func endpoint(_ address: [UInt8], _ port: UInt16) -> ProxyHeader.Endpoint {
    ProxyHeader.Endpoint(address: address, port: port)
}

@Suite struct ProxyHeaderV1Tests {
    @Test func theSpecsExampleBeforeAnHTTPRequest() throws {
        let result = try #require(accepted(decode(
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n")))
        #expect(result.header.version == .v1)
        #expect(result.header.length == 47)
        #expect(result.header.addresses == .proxied(source: endpoint([192, 168, 0, 1], 56324), destination: endpoint([192, 168, 0, 11], 443)))
        #expect(result.remainder == "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n")
    }

    @Test func theSpecsLongestLines() throws {
        let tcp4 = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"
        #expect(tcp4.utf8.count == 56)
        #expect(accepted(decode(tcp4))?.header.source == endpoint([255, 255, 255, 255], 65535))
        let ffff = Array(repeating: "ffff", count: 8).joined(separator: ":")
        let tcp6 = "PROXY TCP6 \(ffff) \(ffff) 65535 65535\r\n"
        #expect(tcp6.utf8.count == 104)
        #expect(accepted(decode(tcp6))?.header.source == endpoint([UInt8](repeating: 0xFF, count: 16), 65535))
        let unknown = "PROXY UNKNOWN \(ffff) \(ffff) 65535 65535\r\n"
        #expect(unknown.utf8.count == 107)
        let header = try #require(accepted(decode(unknown + "EHLO x\r\n")))
        #expect(header.header.addresses == .connectionAddresses(.unknown))
        #expect(header.remainder == "EHLO x\r\n")
    }

    @Test func unknownShortFormUsesTheConnectionsAddresses() throws {
        let result = try #require(accepted(decode("PROXY UNKNOWN\r\nEHLO x\r\n")))
        #expect(result.header.length == 15)
        #expect(result.header.addresses == .connectionAddresses(.unknown))
        #expect(result.header.source == nil)
    }

    @Test func overlongLineIsRefusedAt108Bytes() {
        let ffff = Array(repeating: "ffff", count: 8).joined(separator: ":")
        let line = "PROXY UNKNOWN \(ffff) \(ffff) 65535 655350\r\n"
        #expect(line.utf8.count == 108)
        #expect(rejection(decode(line)) == .lineTooLong)
        // Decided without waiting for the CRLF: 106 bytes with no CR can never end in time.
        #expect(rejection(decode(String(line.prefix(106)))) == .lineTooLong)
        #expect(decode(String(line.prefix(105))) == .readMore)
        #expect(rejection(decode("PROXY " + String(repeating: "A", count: 200))) == .lineTooLong)
    }

    @Test(arguments: [
        ("PROXY TCP6 ::1 ::1 1 2\r\n", [UInt8](repeating: 0, count: 15) + [1]),
        ("PROXY TCP6 2001:db8::7 2001:db8::1 1 2\r\n", [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [7]),
        ("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 1]),
        ("PROXY TCP6 1:2:3:4:5:6:7:8 ::1 1 2\r\n", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
        ("PROXY TCP6 ABCD:ef01:: ::1 1 2\r\n", [0xAB, 0xCD, 0xEF, 0x01] + [UInt8](repeating: 0, count: 12)),
        ("PROXY TCP6 :: ::1 1 2\r\n", [UInt8](repeating: 0, count: 16)),
    ])
    func ipv6Forms(line: String, source: [UInt8]) {
        #expect(accepted(decode(line))?.header.source == endpoint(source, 1))
    }

    @Test(arguments: [
        // Family and address forms.
        ("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", ProxyHeaderError.Kind.unknownFamily),
        ("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", .unknownFamily),
        ("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", .unknownFamily),
        ("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", .malformedLine),
        ("PROXY TCP4\r\n", .malformedLine),
        ("PROXY \r\n", .unknownFamily),
        ("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", .malformedLine),
        ("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 080 25\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 65536 25\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 -1 25\r\n", .malformedLine),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 +1 25\r\n", .malformedLine),
        ("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 1::2::3 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 :::1 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 :1::2 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 12345::1 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 g::1 ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n", .malformedLine),
        ("PROXY TCP6 ::1.2.3.4:5 ::1 1 2\r\n", .malformedLine),
        // Line endings and characters.
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", .badCharacter),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", .badCharacter),
        ("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", .badCharacter),
        ("PROXY UNKNOWN \u{7F}\r\n", .badCharacter),
        ("PROXY UNKNOWN é\r\n", .badCharacter),
        // Not the signature: plain SMTP, a lower-case or short keyword, TLS.
        ("EHLO client.example\r\n", .wrongSignature),
        ("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", .wrongSignature),
        ("PROXY\r\n", .wrongSignature),
        ("PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", .wrongSignature),
        ("\u{16}\u{03}\u{01}\u{00}", .wrongSignature),
    ])
    func malformedLinesAreRefused(line: String, kind: ProxyHeaderError.Kind) {
        #expect(rejection(decode(line)) == kind, "\(line.debugDescription)")
    }

    @Test func aWrongFirstByteIsRefusedAtOnce() {
        #expect(rejection(decode("E")) == .wrongSignature)
        #expect(rejection(decode("PROXx")) == .wrongSignature)
        #expect(decode("PROXY") == .readMore)
    }
}

@Suite struct ProxyHeaderV2Tests {
    @Test func proxyTCP4() throws {
        let result = try #require(accepted(decode(v2(0x21, 0x11, tcp4Addresses) + Array("EHLO x\r\n".utf8))))
        #expect(result.header.version == .v2)
        #expect(result.header.length == 28)
        #expect(result.header.addresses == .proxied(source: endpoint([192, 0, 2, 7], 40000), destination: endpoint([198, 51, 100, 1], 25)))
        #expect(result.remainder == "EHLO x\r\n")
    }

    @Test func proxyTCP6() throws {
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [7]
        let destination: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let result = try #require(accepted(decode(v2(0x21, 0x21, source + destination + [0x01, 0xBB, 0x00, 0x19]))))
        #expect(result.header.length == 52)
        #expect(result.header.addresses == .proxied(source: endpoint(source, 443), destination: endpoint(destination, 25)))
    }

    @Test func localIgnoresItsAddressBlock() throws {
        #expect(accepted(decode(v2(0x20, 0x00, [])))?.header.addresses == .connectionAddresses(.local))
        // "Receivers MUST always consider this field to skip the appropriate number of bytes
        // and must not assume zero is presented for LOCAL connections."
        let result = try #require(accepted(decode(v2(0x20, 0x11, tcp4Addresses) + Array("QUIT\r\n".utf8))))
        #expect(result.header.addresses == .connectionAddresses(.local))
        #expect(result.header.length == 28)
        #expect(result.remainder == "QUIT\r\n")
        // The family of a LOCAL header is ignored, whatever it is.
        #expect(accepted(decode(v2(0x20, 0xFF, [1, 2, 3])))?.header.addresses == .connectionAddresses(.local))
    }

    private static let otherFamilies: [(UInt8, [UInt8])] = [
        (0x00, []),  // AF_UNSPEC
        (0x00, [1, 2, 3, 4]),  // AF_UNSPEC with an address block to ignore
        (0x12, tcp4Addresses),  // UDP over IPv4
        (0x22, [UInt8](repeating: 0, count: 36)),  // UDP over IPv6
        (0x10, [UInt8](repeating: 0, count: 5)),  // IPv4, transport UNSPEC: no known layout
        (0x31, [UInt8](repeating: 0x41, count: 216)),  // AF_UNIX stream
        (0x32, [UInt8](repeating: 0x41, count: 216)),  // AF_UNIX datagram
    ]

    @Test(arguments: Self.otherFamilies)
    func otherValidFamiliesFallBackToTheConnectionsAddresses(family: UInt8, payload: [UInt8]) {
        #expect(accepted(decode(v2(0x21, family, payload)))?.header.addresses == .connectionAddresses(.unsupportedFamily))
    }

    @Test(arguments: [
        (v2(0x11, 0x11, tcp4Addresses), ProxyHeaderError.Kind.unsupportedVersion),
        (v2(0x31, 0x11, tcp4Addresses), .unsupportedVersion),
        (v2(0x22, 0x11, tcp4Addresses), .unknownCommand),
        (v2(0x2F, 0x11, tcp4Addresses), .unknownCommand),
        (v2(0x21, 0x41, tcp4Addresses), .unknownFamily),
        (v2(0x21, 0xF1, tcp4Addresses), .unknownFamily),
        (v2(0x21, 0x13, tcp4Addresses), .unknownFamily),
        (v2(0x21, 0x11, Array(tcp4Addresses.prefix(11))), .addressLengthMismatch),
        (v2(0x21, 0x11, []), .addressLengthMismatch),
        (v2(0x21, 0x21, [UInt8](repeating: 0, count: 35)), .addressLengthMismatch),
        (v2(0x21, 0x31, [UInt8](repeating: 0, count: 215)), .addressLengthMismatch),
        (Array(signature.prefix(11)) + [0x00], .wrongSignature),
        ([0x0D, 0x0A, 0x0D, 0x0A, 0x01], .wrongSignature),
    ])
    func malformedHeadersAreRefused(bytes: [UInt8], kind: ProxyHeaderError.Kind) {
        #expect(rejection(decode(bytes)) == kind)
    }

    @Test func unknownTLVsAreSkipped() throws {
        let tlvs = tlv(0x04, [])  // NOOP
            + tlv(0x05, Array("unique-id".utf8))  // UNIQUE_ID
            + tlv(0x20, [0x01, 0, 0, 0, 0] + tlv(0x21, Array("TLSv1.3".utf8)))  // SSL with a sub-TLV
            + tlv(0xE0, [UInt8](repeating: 0xAA, count: 300))  // custom
            + tlv(0xEA, [0x01] + Array("vpce-0123456789abcdef".utf8))  // AWS: VPC endpoint id
        let result = try #require(accepted(decode(v2(0x21, 0x11, tcp4Addresses + tlvs) + Array("EHLO".utf8))))
        #expect(result.header.source == endpoint([192, 0, 2, 7], 40000))
        #expect(result.header.length == 28 + tlvs.count)
        #expect(result.remainder == "EHLO")
    }

    @Test func truncatedTLVsAreRefused() {
        // A TLV announcing more than the header holds.
        #expect(rejection(decode(v2(0x21, 0x11, tcp4Addresses + [0xE0, 0x00, 0x0A, 1, 2, 3]))) == .truncatedTLV)
        // Bytes after the addresses too few for a TLV's type and length.
        #expect(rejection(decode(v2(0x21, 0x11, tcp4Addresses + [0x04, 0x00]))) == .truncatedTLV)
        #expect(rejection(decode(v2(0x21, 0x11, tcp4Addresses + tlv(0x04, []) + [0x04]))) == .truncatedTLV)
    }

    @Test func theTLVTotalIsBounded() {
        let fits = v2(0x21, 0x11, tcp4Addresses + tlv(0xE0, [UInt8](repeating: 0, count: 97)))
        #expect(accepted(decode(fits, maximumTLVBytes: 100)) != nil)
        let over = v2(0x21, 0x11, tcp4Addresses + tlv(0xE0, [UInt8](repeating: 0, count: 98)))
        #expect(rejection(decode(over, maximumTLVBytes: 100)) == .headerTooLong)
        // Decided on the fixed 16 bytes alone: the decoder does not wait for (or hold) 64 KiB.
        #expect(rejection(decode(Array(v2(0x21, 0x11, [], length: 0xFFFF).prefix(16)))) == .headerTooLong)
        #expect(rejection(decode(Array(v2(0x20, 0x00, [], length: 216 + 1025).prefix(16)))) == .headerTooLong)
        #expect(decode(Array(v2(0x20, 0x00, [], length: 216 + 1024).prefix(16))) == .readMore)
    }

    @Test func crc32cIsVerified() throws {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        var header = v2(0x21, 0x11, tcp4Addresses + tlv(0x03, [0, 0, 0, 0]))
        let checksum = CRC32C.checksum(header)
        header.replaceSubrange((header.count - 4)..., with: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: checksum >> $0) })
        #expect(accepted(decode(header))?.header.source == endpoint([192, 0, 2, 7], 40000))
        var damaged = header
        damaged[16] ^= 0x01  // another source address
        #expect(rejection(decode(damaged)) == .checksumMismatch)
        #expect(rejection(decode(v2(0x21, 0x11, tcp4Addresses + tlv(0x03, [0, 0, 0]))) ) == .checksumMismatch)
    }
}

@Suite struct ProxyHeaderDecoderTests {
    private static let inputs: [[UInt8]] = [
        Array("PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r\nEHLO x\r\n".utf8),
        Array("PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\n".utf8),
        v2(0x21, 0x11, tcp4Addresses + tlv(0x04, [1, 2])) + Array("EHLO x\r\n".utf8),
        v2(0x21, 0x11, tcp4Addresses + [0xE0, 0x00, 0x0A, 1, 2, 3]),
        v2(0x21, 0x41, tcp4Addresses),
    ]

    @Test(arguments: Self.inputs)
    func theDecisionDoesNotDependOnHowTheBytesArrive(bytes: [UInt8]) {
        let whole = decode(bytes)
        #expect(whole != .readMore)
        for split in 0...bytes.count {
            var decoder = ProxyHeaderDecoder()
            var action = decoder.bytesReceived(ByteBuffer(bytes: bytes[..<split]))
            if action == .readMore {
                action = decoder.bytesReceived(ByteBuffer(bytes: bytes[split...]))
            } else if case .accept(let header, var remainder) = action {
                // Decided on the first chunk: the second is the session's, after the remainder.
                remainder.writeBytes(bytes[split...])
                action = .accept(header, remainder: remainder)
            }
            #expect(action == whole, "split at \(split)")
        }
        var decoder = ProxyHeaderDecoder()
        var byteByByte: ProxyHeaderDecoder.Action = .readMore
        for byte in bytes where byteByByte == .readMore {
            byteByByte = decoder.bytesReceived(ByteBuffer(bytes: [byte]))
        }
        // Byte by byte, an accepted header is decided at its last byte: nothing follows yet.
        if case .accept(let header, _) = whole {
            #expect(byteByByte == .accept(header, remainder: ByteBuffer()))
        } else {
            #expect(byteByByte == whole)
        }
    }

    @Test func aTruncatedHeaderIsRefusedWhenTheConnectionEnds() {
        for bytes in [Array("PROXY TCP4 192.0.2.7 198.51.100.1 40000 25\r".utf8), Array(v2(0x21, 0x11, tcp4Addresses).dropLast()), []] {
            var decoder = ProxyHeaderDecoder()
            #expect(decoder.bytesReceived(ByteBuffer(bytes: bytes)) == .readMore)
            #expect(rejection(decoder.inputClosed()) == .truncated)
        }
    }

    @Test func theTimeoutRefusesAnIncompleteHeader() {
        var decoder = ProxyHeaderDecoder()
        #expect(decoder.bytesReceived(ByteBuffer(string: "PROXY TCP4 192.0.2.7")) == .readMore)
        #expect(rejection(decoder.timeoutFired()) == .timeout)
        // Decided: later bytes change nothing.
        #expect(rejection(decoder.bytesReceived(ByteBuffer(string: " 198.51.100.1 40000 25\r\n"))) == .timeout)
    }

    @Test func aDecisionIsFinal() {
        var decoder = ProxyHeaderDecoder()
        let first = decoder.bytesReceived(ByteBuffer(string: "PROXY UNKNOWN\r\n"))
        #expect(accepted(first) != nil)
        #expect(decoder.bytesReceived(ByteBuffer(string: "garbage")) == first)
        #expect(decoder.timeoutFired() == first)
    }
}

@Suite struct ProxyNetworkTests {
    private func address(_ text: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: text, port: 1234)
    }

    @Test func ipv4Networks() throws {
        let network = try ProxyNetwork.parse("10.0.0.0/8")
        #expect(try network.contains(self.address("10.200.3.4")))
        #expect(try !network.contains(self.address("11.0.0.1")))
        #expect(try network.contains(self.address("::ffff:10.1.1.1")))
        #expect(try !network.contains(self.address("::1")))
        #expect(!network.contains(nil))
        #expect(network.description == "10.0.0.0/8")
        let single = try ProxyNetwork.parse("127.0.0.1")
        #expect(try single.contains(self.address("127.0.0.1")))
        #expect(try !single.contains(self.address("127.0.0.7")))
        #expect(try ProxyNetwork.parse("0.0.0.0/0").contains(self.address("203.0.113.9")))
    }

    @Test func ipv6Networks() throws {
        let network = try ProxyNetwork.parse("2001:db8::/32")
        #expect(try network.contains(self.address("2001:db8:ffff::1")))
        #expect(try !network.contains(self.address("2001:db9::1")))
        #expect(try !network.contains(self.address("32.1.13.184")))
        #expect(try ProxyNetwork.parse("::1").contains(self.address("::1")))
    }

    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "example.com", "", "::1/129", "::ffff:10.0.0.0/104", "10.0.0.0/8/8"])
    func badNetworksAreRefused(text: String) {
        #expect(throws: ProxyNetworkError.self) { try ProxyNetwork.parse(text) }
    }
}
