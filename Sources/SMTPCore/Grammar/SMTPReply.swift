import NIOCore

/// A server reply (RFC 5321 §4.2): a three-digit code, an optional enhanced status code
/// (RFC 2034) and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    /// Prepended to every line. Absent only where RFC 2034 §4 leaves it out: the greeting,
    /// the replies to EHLO and HELO, and the intermediate 354.
    public var enhancedCode: EnhancedStatusCode?
    /// At least one line; a multi-line reply uses `code-` on all lines but the last (§4.2.1).
    public var lines: [String]

    public init(code: Int, enhancedCode: EnhancedStatusCode?, lines: [String]) {
        precondition(!lines.isEmpty, "a reply has at least one line")
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
    }

    public init(_ code: Int, _ enhancedCode: EnhancedStatusCode?, _ text: String) {
        self.init(code: code, enhancedCode: enhancedCode, lines: [text])
    }

    /// 4xx and 5xx.
    public var isFailure: Bool { self.code >= 400 }

    /// The reply as sent, CRLF after every line.
    public var description: String {
        var text = ""
        for (index, line) in self.lines.enumerated() {
            let separator = index == self.lines.count - 1 ? " " : "-"
            text += "\(self.code)\(separator)"
            if let enhancedCode = self.enhancedCode {
                text += "\(enhancedCode) "
            }
            text += line
            text += "\r\n"
        }
        return text
    }

    /// Writes the reply in wire form.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeString(self.description)
    }
}
