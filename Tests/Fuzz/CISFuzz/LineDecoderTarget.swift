import NIOCore
import SMTPServer

/// `SMTPLineDecoder`, driven the way `NIOSingleStepByteToMessageProcessor` drives it: bytes
/// appended to one buffer, `decode` called until it returns nil.
///
/// Invariants, for the whole input in one chunk, split into two chunks at every point, and
/// one byte at a time: the frames are exactly those of a plain model (split at LF, drop one
/// CR before it, a line whose content and CRLF exceed the limit is `tooLong`, an unterminated
/// tail yields nothing); no line is longer than the limit or holds an LF; every terminated
/// line is consumed and an unterminated tail is either kept or (past the limit) discarded.
enum LineDecoderTarget {
    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        let choice = input.byte()
        let maximumLineLength = choice & 0x80 == 0 ? Int(choice) + 2 : 512
        let bytes = input.rest()
        let expected = Self.model(bytes, maximumLineLength: maximumLineLength)

        Self.check(bytes, splits: [], maximumLineLength: maximumLineLength, expected: expected)
        for split in 0...bytes.count {
            Self.check(bytes, splits: [split], maximumLineLength: maximumLineLength, expected: expected)
        }
        Self.check(bytes, splits: Array(bytes.indices.dropFirst()), maximumLineLength: maximumLineLength, expected: expected)
    }

    private static func check(_ bytes: [UInt8], splits: [Int], maximumLineLength: Int, expected: [SMTPLineDecoder.Frame]) {
        var decoder = SMTPLineDecoder(maximumLineLength: maximumLineLength)
        var buffer = ByteBuffer()
        var frames: [SMTPLineDecoder.Frame] = []
        var start = 0
        for end in splits + [bytes.count] {
            buffer.writeBytes(bytes[start..<end])
            start = end
            while true {
                let before = buffer.readableBytes
                guard let frame = try? decoder.decode(buffer: &buffer) else { break }
                require(buffer.readableBytes < before, "a frame without consuming input")
                frames.append(frame)
            }
            buffer.discardReadBytes()
        }
        while let frame = try? decoder.decodeLast(buffer: &buffer, seenEOF: true) { frames.append(frame) }
        for case .line(let line) in frames {
            require(line.count + 2 <= maximumLineLength, "a line of \(line.count) octets over the limit \(maximumLineLength)")
            require(!line.contains(UInt8(ascii: "\n")), "a line with an LF")
        }
        require(frames == expected, "frames \(frames) differ from the model's \(expected) with splits \(splits)")
        // What is left is a suffix of the input without an LF: the unterminated tail, or less of it.
        let left = buffer.readableBytesView
        require(!left.contains(UInt8(ascii: "\n")), "an LF left unconsumed")
        require(bytes[(bytes.count - left.count)...].elementsEqual(left), "the unconsumed bytes are not the input's tail")
    }

    /// The frames, by definition.
    static func model(_ bytes: [UInt8], maximumLineLength: Int) -> [SMTPLineDecoder.Frame] {
        var segments = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        segments.removeLast()  // after the last LF: unterminated (possibly empty)
        return segments.map { segment in
            var content = segment
            if content.last == UInt8(ascii: "\r") { content = content.dropLast() }
            return content.count + 2 > maximumLineLength ? .tooLong : .line(Array(content))
        }
    }
}
