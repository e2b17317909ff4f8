import SMTPCore

/// `CommandParser` (with the path and parameter parsers behind MAIL and RCPT) and `Mailbox.parse`.
///
/// Invariants: parsing is deterministic; a failure maps to a 5xx reply with a reason; a parsed
/// command written back in canonical form parses to the same value; a parsed address has no
/// control characters and keeps RFC 5321's length limits.
enum CommandParserTarget {
    static func run(_ data: [UInt8]) {
        let parsed = Result { () throws(SMTPParserError) in try CommandParser.parse(data) }
        let again = Result { () throws(SMTPParserError) in try CommandParser.parse(data) }
        require(parsed == again, "parsing the same line twice gave \(parsed) and \(again)")
        switch parsed {
        case .failure(let error):
            require(!error.reason.isEmpty, "an error without a reason: \(error)")
            require(error.kind != .lineTooLong, "the parser itself never measures the line: \(error)")
            let reply = SMTPReply.commandRejected(error)
            require((500..<600).contains(reply.code), "a rejected command answered \(reply.code)")
            ReplyCheck.requireWellFormed(reply)
        case .success(let command):
            Self.checkValues(of: command)
            let canonical = Self.serialize(command)
            let reparsed = Result { () throws(SMTPParserError) in try CommandParser.parse(canonical) }
            require(
                reparsed == .success(command),
                "\(command) written as \(String(decoding: canonical, as: UTF8.self).debugDescription) parses to \(reparsed)")
        }

        // The path parser alone, as configured addresses use it.
        let text = String(decoding: data, as: UTF8.self)
        if let mailbox = try? Mailbox.parse(text) {
            Self.checkMailbox(mailbox)
            let reparsed = Result { () throws(SMTPParserError) in try Mailbox.parse(mailbox.address) }
            require(reparsed == .success(mailbox), "\(mailbox.address.debugDescription) parses to \(reparsed)")
        }
    }

    private static func checkValues(of command: SMTPCommand) {
        switch command {
        case .ehlo(let name), .helo(let name):
            require(!name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F }, "hello name \(name.debugDescription)")
        case .mail(.mailbox(let mailbox), _), .rcpt(let mailbox):
            Self.checkMailbox(mailbox)
        case .mail(.null, _), .data, .rset, .vrfy, .help, .noop, .quit, .startTLS:
            break
        }
    }

    static func checkMailbox(_ mailbox: Mailbox) {
        require(
            mailbox.address.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F },
            "address with a control character: \(mailbox.address.debugDescription)")
        require(!mailbox.localPart.isEmpty && !mailbox.domain.isEmpty, "empty part in \(mailbox.address.debugDescription)")
        require(mailbox.localPart.utf8.count <= 64 && mailbox.domain.utf8.count <= 255, "address too long")
    }

    /// The command as a client would write it.
    static func serialize(_ command: SMTPCommand) -> [UInt8] {
        let text: String
        switch command {
        case .ehlo(let name): text = "EHLO \(name)"
        case .helo(let name): text = "HELO \(name)"
        case .mail(let path, let parameters):
            var words = ["MAIL FROM:<\(path.address)>"]
            if let size = parameters.size { words.append("SIZE=\(size)") }
            if let body = parameters.body { words.append("BODY=\(body.rawValue)") }
            if parameters.smtpUTF8 { words.append("SMTPUTF8") }
            text = words.joined(separator: " ")
        case .rcpt(let mailbox): text = "RCPT TO:<\(mailbox.address)>"
        case .data: text = "DATA"
        case .rset: text = "RSET"
        case .vrfy(let argument): text = "VRFY \(argument)"
        case .help(let argument): text = argument.map { "HELP \($0)" } ?? "HELP"
        case .noop: text = "NOOP"
        case .quit: text = "QUIT"
        case .startTLS: text = "STARTTLS"
        }
        return Array(text.utf8)
    }
}

enum ReplyCheck {
    /// A reply is a 2xx to 5xx code and lines without CR or LF, so a client sees exactly the lines meant.
    static func requireWellFormed(_ reply: SMTPReply) {
        require((200..<600).contains(reply.code), "reply code \(reply.code)")
        require(!reply.lines.isEmpty, "a reply without lines")
        for line in reply.lines {
            require(
                !line.utf8.contains(UInt8(ascii: "\r")) && !line.utf8.contains(UInt8(ascii: "\n")) && !line.utf8.contains(0),
                "reply line with CR, LF or NUL: \(line.debugDescription)")
        }
        let wire = Array(reply.description.utf8)
        let lineEnds = zip(wire, wire.dropFirst()).filter { $0 == (UInt8(ascii: "\r"), UInt8(ascii: "\n")) }.count
        require(lineEnds == reply.lines.count, "reply \(reply.description.debugDescription) is not \(reply.lines.count) lines")
    }
}
