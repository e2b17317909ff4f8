import NIOCore
import SMTPCore

/// `DataDecoder`: dot-stuffing and the end of the message, at every split point.
///
/// Invariants:
/// - Any input, in one chunk, split into two chunks at every point, or a byte at a time:
///   the decoder's output, the bytes it consumes and whether it completes are those of a
///   plain model (the end is `.` CRLF at the start of the text or after a CRLF; a line's
///   leading dot is removed); bytes after the terminator stay in the input, untouched, and a
///   finished decoder takes nothing more; `size` counts the whole message and the output is
///   its prefix within `maximumSize` (all of it when the message fits).
/// - Round trip: a message dot-stuffed and terminated as a client sends it, followed by more
///   bytes, decodes at every split point to exactly the message (with the final CRLF the
///   client adds), and nothing after `CRLF.CRLF` is part of it.
enum DataDecoderTarget {
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dot = UInt8(ascii: ".")

    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let choice = input.byte()
        let maximumSize = choice & 0x80 == 0 ? Int.max : Int(choice & 0x7F) * 3
        let bytes = input.rest()

        let expected = Self.model(bytes)
        for splits in Self.chunkings(bytes) {
            Self.check(bytes, splits: splits, maximumSize: maximumSize, expected: expected)
        }

        // Round trip: the input as a message, stuffed and terminated, then a command.
        let message = bytes
        let needsLineEnd = !message.isEmpty && !message.ends(with: [Self.cr, Self.lf])
        let sent = Self.stuff(message) + (needsLineEnd ? [Self.cr, Self.lf] : []) + [Self.dot, Self.cr, Self.lf]
        let after = Array("QUIT\r\n.\r\n".utf8)
        let stream = sent + after
        let roundTrip = Self.model(stream)
        require(
            roundTrip.complete && roundTrip.message == message + (needsLineEnd ? [Self.cr, Self.lf] : []) && roundTrip.consumed == sent.count,
            "the model does not invert dot-stuffing: \(roundTrip)")
        for splits in Self.chunkings(stream) {
            Self.check(stream, splits: splits, maximumSize: maximumSize, expected: roundTrip)
        }
    }

    private struct Expected: Equatable, CustomStringConvertible {
        var message: [UInt8]
        var consumed: Int
        var complete: Bool

        var description: String {
            "\(String(decoding: self.message, as: UTF8.self).debugDescription), consumed \(self.consumed), complete \(self.complete)"
        }
    }

    /// The message text before the terminator (or all of it so far), by definition.
    private static func model(_ bytes: [UInt8]) -> Expected {
        var message: [UInt8] = []
        var index = 0
        var atLineStart = true
        while index < bytes.count {
            if atLineStart && bytes[index] == Self.dot {
                // A dot at a line start is removed; `.` CRLF is the end.
                if index + 1 == bytes.count { return Expected(message: message, consumed: bytes.count, complete: false) }
                if bytes[index + 1] == Self.cr {
                    // The CR is held back until the next byte says whether it ends the message.
                    if index + 2 == bytes.count { return Expected(message: message, consumed: bytes.count, complete: false) }
                    if bytes[index + 2] == Self.lf { return Expected(message: message, consumed: index + 3, complete: true) }
                }
                atLineStart = false
                index += 1
                continue
            }
            message.append(bytes[index])
            atLineStart = bytes[index] == Self.lf && index > 0 && bytes[index - 1] == Self.cr
            index += 1
        }
        return Expected(message: message, consumed: bytes.count, complete: false)
    }

    private static func stuff(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var atLineStart = true
        for (index, byte) in message.enumerated() {
            if atLineStart && byte == Self.dot { out.append(Self.dot) }
            out.append(byte)
            atLineStart = byte == Self.lf && index > 0 && message[index - 1] == Self.cr
        }
        return out
    }

    /// Chunk boundaries: none (one chunk), every single split point (two chunks), and every
    /// point at once (one byte at a time).
    private static func chunkings(_ bytes: [UInt8]) -> [[Int]] {
        [[]] + (0...bytes.count).map { [$0] } + [Array(bytes.indices.dropFirst())]
    }

    private static func check(_ bytes: [UInt8], splits: [Int], maximumSize: Int, expected: Expected) {
        var decoder = DataDecoder(maximumSize: maximumSize)
        var output = ByteBuffer()
        var consumed = 0
        var complete = false
        var left: [UInt8] = []
        var chunk = ByteBuffer()
        var start = 0
        for end in splits + [bytes.count] {
            defer { start = end }
            chunk.clear()
            chunk.writeBytes(bytes[start..<end])
            if complete {
                require(decoder.decode(&chunk, into: &output) == .complete, "a finished decoder wants more")
                require(chunk.readableBytes == end - start, "a finished decoder consumed bytes after the terminator")
                left += bytes[start..<end]
                continue
            }
            complete = decoder.decode(&chunk, into: &output) == .complete
            consumed += end - start - chunk.readableBytes
            require(complete || chunk.readableBytes == 0, "the decoder left bytes without finishing")
            left += chunk.getBytes(at: chunk.readerIndex, length: chunk.readableBytes) ?? []
        }
        require(complete == expected.complete, "complete \(complete), expected \(expected) for splits \(splits)")
        require(consumed == expected.consumed, "consumed \(consumed), expected \(expected) for splits \(splits)")
        require(left.elementsEqual(bytes[consumed...]), "the bytes after the terminator were changed")
        require(decoder.size == expected.message.count, "size \(decoder.size), expected \(expected)")
        require(decoder.exceededLimit == (expected.message.count > maximumSize), "exceededLimit \(decoder.exceededLimit)")
        let text = output.getBytes(at: output.readerIndex, length: output.readableBytes) ?? []
        require(text.count <= maximumSize && expected.message.starts(with: text), "output is not a prefix within the limit of \(expected)")
        if !decoder.exceededLimit {
            require(
                text == expected.message,
                "output \(String(decoding: text, as: UTF8.self).debugDescription), expected \(expected) for splits \(splits)")
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        self.count >= suffix.count && Array(self[(self.count - suffix.count)...]) == suffix
    }
}
