import NIOCore
import SMTPCore
import Testing

/// Bytes after `354` and what the decoder must make of them.
struct DataFixture: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable, Equatable {
        /// The terminator was found; `text` is the message and `rest` what follows it.
        case success(text: String, rest: String)
        /// No terminator yet; `text` is what was decoded so far.
        case incomplete(text: String)
    }

    var input: String
    var expectation: Expectation

    var testDescription: String { self.input.debugDescription }
}

@Suite struct DataDecoderTests {
    static let fixtures: [DataFixture] = [
        // The ordinary end, and the CRLF before the dot belongs to the text.
        DataFixture(input: "Subject: x\r\n\r\nbody\r\n.\r\n", expectation: .success(text: "Subject: x\r\n\r\nbody\r\n", rest: "")),
        // An empty message: the first line counts as following a CRLF.
        DataFixture(input: ".\r\n", expectation: .success(text: "", rest: "")),
        // Pipelined commands after the end stay in the input.
        DataFixture(input: "a\r\n.\r\nQUIT\r\n", expectation: .success(text: "a\r\n", rest: "QUIT\r\n")),
        // Dot-stuffing: a leading dot is removed, once.
        DataFixture(input: "..hidden\r\n...\r\n.\r\n", expectation: .success(text: ".hidden\r\n..\r\n", rest: "")),
        DataFixture(input: ".x\r\n.\r\n", expectation: .success(text: "x\r\n", rest: "")),
        // A dot in the middle of a line is text.
        DataFixture(input: "a.b\r\nc .\r\n.\r\n", expectation: .success(text: "a.b\r\nc .\r\n", rest: "")),
        // SMTP smuggling: none of these ends the message. A line starting with a dot and
        // something else loses the dot (RFC 5321 §4.5.2), bare LF included.
        DataFixture(input: "a\n.\nMAIL FROM:<x@y.z>\n", expectation: .incomplete(text: "a\n.\nMAIL FROM:<x@y.z>\n")),
        DataFixture(input: "a\r.\rMAIL FROM:<x@y.z>\r", expectation: .incomplete(text: "a\r.\rMAIL FROM:<x@y.z>\r")),
        DataFixture(input: "a\n.\r\nMAIL FROM:<x@y.z>\r\n", expectation: .incomplete(text: "a\n.\r\nMAIL FROM:<x@y.z>\r\n")),
        DataFixture(input: "a\r\n.\nMAIL FROM:<x@y.z>\r\n", expectation: .incomplete(text: "a\r\n\nMAIL FROM:<x@y.z>\r\n")),
        DataFixture(input: "a\r\n.\rMAIL\r\n", expectation: .incomplete(text: "a\r\n\rMAIL\r\n")),
        DataFixture(input: "a\r\n.\r\r\n", expectation: .incomplete(text: "a\r\n\r\r\n")),
        // ...and the real terminator after them still does.
        DataFixture(
            input: "a\n.\nb\r.\rc\n.\r\nd\r\n.\ne\r\n.\r\nRSET\r\n",
            expectation: .success(text: "a\n.\nb\r.\rc\n.\r\nd\r\n\ne\r\n", rest: "RSET\r\n")),
        // Bare CR LF pairs split by other bytes.
        DataFixture(input: "a\r\r\n.\r\n", expectation: .success(text: "a\r\r\n", rest: "")),
        DataFixture(input: "partial\r\n.", expectation: .incomplete(text: "partial\r\n")),
        DataFixture(input: "partial\r\n.\r", expectation: .incomplete(text: "partial\r\n")),
    ]

    private static func decode(_ chunks: [String], maximumSize: Int = 1 << 20) -> (DataFixture.Expectation, Int) {
        var decoder = DataDecoder(maximumSize: maximumSize)
        var text = ByteBuffer()
        for (index, chunk) in chunks.enumerated() {
            var input = ByteBuffer(string: chunk)
            if decoder.decode(&input, into: &text) == .complete {
                let rest = chunks[(index + 1)...].joined()
                return (.success(text: String(buffer: text), rest: String(buffer: input) + rest), decoder.size)
            }
            #expect(input.readableBytes == 0)
        }
        return (.incomplete(text: String(buffer: text)), decoder.size)
    }

    @Test(arguments: Self.fixtures)
    func decodeInOneChunk(_ fixture: DataFixture) {
        #expect(Self.decode([fixture.input]).0 == fixture.expectation)
    }

    /// Every split point, and byte by byte, give the same result as one chunk.
    @Test(arguments: Self.fixtures)
    func decodeAtEverySplitPoint(_ fixture: DataFixture) {
        let bytes = Array(fixture.input.utf8)
        for split in 0...bytes.count {
            let chunks = [String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)]
            #expect(Self.decode(chunks).0 == fixture.expectation, "split at \(split)")
        }
        let single = bytes.map { String(decoding: [$0], as: UTF8.self) }
        #expect(Self.decode(single).0 == fixture.expectation, "byte by byte")
    }

    @Test func sizeCountsUnstuffedText() {
        let (result, size) = Self.decode(["..ab\r\n.\r\n"])
        #expect(result == .success(text: ".ab\r\n", rest: ""))
        #expect(size == 5)
    }

    @Test func textPastTheLimitIsCountedButNotCopied() {
        var decoder = DataDecoder(maximumSize: 10)
        var text = ByteBuffer()
        var input = ByteBuffer(string: "0123456789abcdef\r\nmore\r\n.\r\nQUIT\r\n")
        #expect(decoder.decode(&input, into: &text) == .complete)
        #expect(decoder.exceededLimit)
        #expect(decoder.size == 24)
        #expect(text.readableBytes <= 10)
        #expect(String(buffer: input) == "QUIT\r\n")
    }

    @Test func textAtTheLimitIsKept() {
        var decoder = DataDecoder(maximumSize: 5)
        var text = ByteBuffer()
        var input = ByteBuffer(string: "abc\r\n.\r\n")
        #expect(decoder.decode(&input, into: &text) == .complete)
        #expect(!decoder.exceededLimit)
        #expect(String(buffer: text) == "abc\r\n")
    }

    @Test func aFinishedDecoderConsumesNothingMore() {
        var decoder = DataDecoder(maximumSize: 100)
        var text = ByteBuffer()
        var input = ByteBuffer(string: ".\r\n")
        #expect(decoder.decode(&input, into: &text) == .complete)
        var more = ByteBuffer(string: "x\r\n.\r\n")
        #expect(decoder.decode(&more, into: &text) == .complete)
        #expect(more.readableBytes == 6)
    }
}
