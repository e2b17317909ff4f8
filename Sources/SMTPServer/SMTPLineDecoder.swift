import NIOCore

/// Frames command lines: up to LF, with the CR before it removed. A line longer than the
/// limit (CRLF included) is skipped up to its end and reported once as `tooLong`, so an
/// endless line can never fill memory.
///
/// Commands accept a bare LF as the end of a line (clients typing into `openssl s_client`
/// send one); message text never does, see `DataDecoder`.
public struct SMTPLineDecoder: NIOSingleStepByteToMessageDecoder {
    public enum Frame: Sendable, Hashable {
        case line([UInt8])
        case tooLong
    }

    public typealias InboundOut = Frame

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// Octets including the CRLF; RFC 5321 §4.5.3.1.4 sets 512 for command lines.
    public let maximumLineLength: Int
    private var discarding = false

    public init(maximumLineLength: Int) {
        precondition(maximumLineLength >= 2, "a line has at least its CRLF")
        self.maximumLineLength = maximumLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: Self.lf) else {
            // Without its end, a line this long can no longer fit (its CRLF is still to come).
            if self.discarding || view.count >= self.maximumLineLength {
                self.discarding = true
                buffer.moveReaderIndex(forwardBy: view.count)
            }
            return nil
        }
        var content = view[view.startIndex..<lf]
        if content.last == Self.cr {
            content = content.dropLast()
        }
        let tooLong = self.discarding || content.count + 2 > self.maximumLineLength
        let line = tooLong ? nil : Array(content)
        buffer.moveReaderIndex(forwardBy: lf - view.startIndex + 1)
        self.discarding = false
        return line.map(Frame.line) ?? .tooLong
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        // An unterminated line at the end of the stream is not a command.
        try self.decode(buffer: &buffer)
    }
}
