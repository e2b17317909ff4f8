import NIOCore
import SMTPServer

/// `ProxyHeaderDecoder`: the PROXY protocol v1/v2 header before an SMTP session. The first
/// byte picks the TLV allowance (0-127 bytes, or the default); the rest is the connection's
/// first bytes.
///
/// Invariants: the decision is the same for the input in one chunk, in two chunks split at
/// every point, and one byte at a time (an accepted header is decided exactly at its last
/// byte, so every proper prefix of it asks for more); an accepted header starts the input,
/// stays within the bounds (v1 107 bytes, v2 16 + 216 + the TLV allowance), and is followed by
/// exactly the rest of the input; its addresses are 4 or 16 bytes and, written back as a v1
/// line and as a v2 header, decode to the same addresses; waiting for more never holds more
/// than the bound; a connection closing while the decoder waits is refused as truncated.
enum ProxyHeaderTarget {
    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let choice = input.byte()
        let maximumTLVBytes = choice & 0x80 == 0 ? Int(choice) : ProxyHeaderDecoder.defaultMaximumTLVBytes
        let bytes = input.rest()
        let bound = max(ProxyHeaderDecoder.maximumV1Length, 16 + 216 + maximumTLVBytes)

        let (whole, _) = Self.decide(bytes, splits: [], maximumTLVBytes: maximumTLVBytes)
        for split in 0...bytes.count {
            let (decided, _) = Self.decide(bytes, splits: [split], maximumTLVBytes: maximumTLVBytes)
            require(decided == whole, "split at \(split): \(decided) differs from \(whole)")
        }
        let (byteByByte, decidedAt) = Self.decide(bytes, splits: Array(bytes.indices.dropFirst()), maximumTLVBytes: maximumTLVBytes)
        require(byteByByte == whole, "one byte at a time: \(byteByByte) differs from \(whole)")

        switch whole {
        case .undecided:
            require(bytes.count < bound, "\(bytes.count) bytes held without a decision")
            var decoder = ProxyHeaderDecoder(maximumTLVBytes: maximumTLVBytes)
            _ = decoder.bytesReceived(ByteBuffer(bytes: bytes))
            guard case .reject(let error) = decoder.inputClosed(), error.kind == .truncated else {
                require(false, "closing while waiting is not a truncated header")
                return
            }
        case .rejected(let error):
            require(!error.detail.isEmpty, "a refusal without detail")
        case .accepted(let header, let after):
            require(decidedAt == header.length, "accepted at byte \(decidedAt), the header has \(header.length)")
            require(header.length <= bytes.count, "a header longer than the input")
            require(after == Array(bytes[header.length...]), "the bytes after the header are not the input's rest")
            switch header.version {
            case .v1:
                require(header.length <= ProxyHeaderDecoder.maximumV1Length, "a v1 line of \(header.length) bytes")
                require(bytes.starts(with: Array("PROXY ".utf8)), "v1 accepted without its signature")
                require(Array(bytes[(header.length - 2)..<header.length]) == [0x0D, 0x0A], "v1 accepted without its CRLF")
            case .v2:
                require(header.length <= 16 + 216 + maximumTLVBytes, "a v2 header of \(header.length) bytes")
                require(bytes.starts(with: [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]), "v2 accepted without its signature")
                require(header.length == 16 + (Int(bytes[14]) << 8 | Int(bytes[15])), "v2 length field disagrees")
            }
            if case .proxied(let source, let destination) = header.addresses {
                require([4, 16].contains(source.address.count), "a source address of \(source.address.count) bytes")
                require(source.address.count == destination.address.count, "source and destination of different families")
                for encoded in [Self.v1Line(source, destination), Self.v2Header(source, destination)] {
                    var decoder = ProxyHeaderDecoder(maximumTLVBytes: 0)
                    guard case .accept(let again, _) = decoder.bytesReceived(ByteBuffer(bytes: encoded)) else {
                        require(false, "the header written back does not decode: \(encoded)")
                        return
                    }
                    require(again.addresses == header.addresses, "written back, \(header.addresses) became \(again.addresses)")
                }
            }
        }
    }

    private enum Decision: Equatable {
        case undecided
        case rejected(ProxyHeaderError)
        /// The header and every byte after it (fed or not).
        case accepted(ProxyHeader, after: [UInt8])
    }

    /// The decision, and how many bytes had been fed when it was made.
    private static func decide(_ bytes: [UInt8], splits: [Int], maximumTLVBytes: Int) -> (Decision, Int) {
        var decoder = ProxyHeaderDecoder(maximumTLVBytes: maximumTLVBytes)
        var start = 0
        for end in splits + [bytes.count] {
            switch decoder.bytesReceived(ByteBuffer(bytes: bytes[start..<end])) {
            case .readMore:
                start = end
            case .reject(let error):
                return (.rejected(error), end)
            case .accept(let header, let remainder):
                // Decided with this chunk: the unread part of it, then whatever was not fed yet.
                return (.accepted(header, after: Array(remainder.readableBytesView) + Array(bytes[end...])), end)
            }
        }
        return (.undecided, bytes.count)
    }

    private static func v1Line(_ source: ProxyHeader.Endpoint, _ destination: ProxyHeader.Endpoint) -> [UInt8] {
        func text(_ address: [UInt8]) -> String {
            if address.count == 4 { return address.map(String.init).joined(separator: ".") }
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
        let family = source.address.count == 4 ? "TCP4" : "TCP6"
        return Array("PROXY \(family) \(text(source.address)) \(text(destination.address)) \(source.port) \(destination.port)\r\n".utf8)
    }

    private static func v2Header(_ source: ProxyHeader.Endpoint, _ destination: ProxyHeader.Endpoint) -> [UInt8] {
        let family: UInt8 = source.address.count == 4 ? 0x11 : 0x21
        let block = source.address + destination.address
            + [UInt8(source.port >> 8), UInt8(source.port & 0xFF), UInt8(destination.port >> 8), UInt8(destination.port & 0xFF)]
        return [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, family, 0, UInt8(block.count)] + block
    }
}
