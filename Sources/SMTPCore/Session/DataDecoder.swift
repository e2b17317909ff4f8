import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads message text after `354` (RFC 5321 §4.1.1.4, §4.5.2): removes dot-stuffing,
/// keeps every other byte as sent, and finds the end.
///
/// The end is only `<CRLF>.<CRLF>`; the text's first line counts as following a CRLF.
/// A bare LF or bare CR never starts a line here, so `\n.\n`, `\r.\r`, `\n.\r\n` and
/// `\r\n.\n` are message text and can never end the message early or smuggle a second one.
///
/// Past `maximumSize` octets the text is counted but no longer copied out, so the caller
/// can drain the rest and then refuse the message.
public struct DataDecoder: Sendable {
    public enum Progress: Sendable, Hashable {
        case needMoreData
        /// The terminator was consumed; bytes after it are left in the input.
        case complete
    }

    private enum State: Sendable {
        /// Inside a line.
        case text
        /// Inside a line, right after a CR.
        case carriageReturn
        /// Right after CRLF (or at the very start).
        case lineStart
        /// A line started with a dot (removed).
        case dot
        /// A line started with a dot and a CR (both held back).
        case dotCarriageReturn
        case finished
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dot = UInt8(ascii: ".")

    public let maximumSize: Int
    /// Octets of message text so far, after dot-unstuffing, including any past the limit.
    public private(set) var size = 0
    private var state = State.lineStart

    public init(maximumSize: Int) {
        self.maximumSize = maximumSize
    }

    public var exceededLimit: Bool { self.size > self.maximumSize }

    /// Consumes bytes from `input` up to and including the terminator and appends the
    /// message text among them to `output` (as long as the total stays within the limit).
    public mutating func decode(_ input: inout ByteBuffer, into output: inout ByteBuffer) -> Progress {
        guard self.state != .finished else { return .complete }
        let consumed = input.withUnsafeReadableBytes { bytes in
            self.scan(bytes, into: &output)
        }
        input.moveReaderIndex(forwardBy: consumed)
        return self.state == .finished ? .complete : .needMoreData
    }

    /// Returns how many bytes of `bytes` were consumed.
    private mutating func scan(_ bytes: UnsafeRawBufferPointer, into output: inout ByteBuffer) -> Int {
        // Runs of bytes that pass through unchanged are copied in one go.
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch self.state {
            case .text:
                if byte == Self.cr {
                    self.state = .carriageReturn
                } else {
                    // Only a CR can end a line here: skip to the next one with memchr.
                    let rest = bytes.count - index - 1
                    guard rest > 0, let found = memchr(bytes.baseAddress! + index + 1, Int32(Self.cr), rest) else {
                        index = bytes.count
                        continue
                    }
                    index = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
                    self.state = .carriageReturn
                }
            case .carriageReturn:
                self.state = byte == Self.lf ? .lineStart : (byte == Self.cr ? .carriageReturn : .text)
            case .lineStart:
                if byte == Self.dot {
                    self.emit(bytes, from: runStart, to: index, into: &output)
                    runStart = index + 1
                    self.state = .dot
                } else {
                    self.state = byte == Self.cr ? .carriageReturn : .text
                }
            case .dot:
                if byte == Self.cr {
                    self.emit(bytes, from: runStart, to: index, into: &output)
                    runStart = index + 1
                    self.state = .dotCarriageReturn
                } else {
                    self.state = .text
                }
            case .dotCarriageReturn:
                if byte == Self.lf {
                    self.state = .finished
                    return index + 1
                }
                // A dot line that did not end: the dot stays removed, the CR was text.
                self.emitCarriageReturn(into: &output)
                self.state = byte == Self.cr ? .carriageReturn : .text
            case .finished:
                return index
            }
            index += 1
        }
        self.emit(bytes, from: runStart, to: bytes.count, into: &output)
        return bytes.count
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into output: inout ByteBuffer) {
        guard end > start else { return }
        let count = end - start
        if self.size + count <= self.maximumSize {
            output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
        self.size += count
    }

    private mutating func emitCarriageReturn(into output: inout ByteBuffer) {
        if self.size + 1 <= self.maximumSize {
            output.writeInteger(Self.cr)
        }
        self.size += 1
    }
}
