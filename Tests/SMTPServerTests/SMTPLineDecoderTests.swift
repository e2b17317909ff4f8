import NIOCore
import NIOTestUtils
@testable import SMTPServer
import Testing

@Suite struct SMTPLineDecoderTests {
    private func line(_ text: String) -> SMTPLineDecoder.Frame { .line(Array(text.utf8)) }

    /// Every split point and every way of batching the input gives the same frames.
    @Test func framesAtEverySplitPoint() throws {
        let long = String(repeating: "x", count: 600)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("EHLO a\r\n", [self.line("EHLO a")]),
                ("NOOP\n", [self.line("NOOP")]),
                ("\r\n", [self.line("")]),
                ("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n", [
                    self.line("MAIL FROM:<a@b.c>"), self.line("RCPT TO:<d@e.f>"), self.line("DATA"),
                ]),
                ("NOOP \(long)\r\nQUIT\r\n", [.tooLong, self.line("QUIT")]),
            ],
            decoderFactory: { SMTPLineDecoder(maximumLineLength: 512) })
    }

    @Test func limitCountsTheCRLF() throws {
        var decoder = SMTPLineDecoder(maximumLineLength: 512)
        let fits = String(repeating: "a", count: 510)
        var buffer = ByteBuffer(string: "\(fits)\r\n\(fits)b\r\n")
        #expect(try decoder.decode(buffer: &buffer) == .line(Array(fits.utf8)))
        #expect(try decoder.decode(buffer: &buffer) == .tooLong)
        #expect(buffer.readableBytes == 0)
    }

    @Test func anEndlessLineIsDiscardedAsItArrives() throws {
        var decoder = SMTPLineDecoder(maximumLineLength: 512)
        for _ in 0..<100 {
            var chunk = ByteBuffer(repeating: UInt8(ascii: "z"), count: 1000)
            #expect(try decoder.decode(buffer: &chunk) == nil)
            #expect(chunk.readableBytes == 0)
        }
        var end = ByteBuffer(string: "zz\r\nNOOP\r\n")
        #expect(try decoder.decode(buffer: &end) == .tooLong)
        #expect(try decoder.decode(buffer: &end) == self.line("NOOP"))
    }

    @Test func anUnterminatedLineWaits() throws {
        var decoder = SMTPLineDecoder(maximumLineLength: 512)
        var buffer = ByteBuffer(string: "EHLO a\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        #expect(try decoder.decode(buffer: &buffer) == self.line("EHLO a"))
    }
}
