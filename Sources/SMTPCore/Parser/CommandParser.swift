/// Turns one command line (without its CRLF) into an `SMTPCommand`.
///
/// Verbs and the `FROM:`/`TO:` keywords are case-insensitive (RFC 5321 §2.4).
public enum CommandParser {
    public static func parse(_ line: [UInt8]) throws(SMTPParserError) -> SMTPCommand {
        guard !line.contains(0), let text = String(validating: line, as: UTF8.self) else {
            throw SMTPParserError(.syntax, "command line is not valid UTF-8 text")
        }
        // No command has a control character in it (a bare CR or LF could end a reply early
        // when echoed, or a header when stored); TAB is only ever trailing white space.
        guard !text.unicodeScalars.contains(where: ParserPrimitives.isControl) else {
            throw SMTPParserError(.syntax, "command line contains control characters")
        }
        let trimmed = text.trimmingTrailingSpaces()
        let verbEnd = trimmed.firstIndex(of: " ") ?? trimmed.endIndex
        let verb = trimmed[..<verbEnd].uppercased()
        let argument = trimmed[verbEnd...].drop { $0 == " " }

        switch verb {
        case "EHLO":
            return .ehlo(try self.helloDomain(argument, verb: verb))
        case "HELO":
            // HELO starts a session without extensions, so never one with SMTPUTF8 (RFC 6531 §3.7.1).
            let name = try self.helloDomain(argument, verb: verb)
            guard name.utf8.allSatisfy({ $0 < 0x80 }) else {
                throw SMTPParserError(.syntax, "HELO needs an ASCII name (8-bit names need EHLO and SMTPUTF8)")
            }
            return .helo(name)
        case "MAIL":
            let pathText = try self.afterKeyword("FROM:", in: argument, verb: verb)
            let (path, rest) = try PathParser.splitPath(pathText)
            return .mail(try PathParser.reversePath(path), try ParameterParser.mailParameters(rest))
        case "RCPT":
            let pathText = try self.afterKeyword("TO:", in: argument, verb: verb)
            let (path, rest) = try PathParser.splitPath(pathText)
            guard rest.isEmpty else {
                throw SMTPParserError(.unsupportedParameter, "RCPT parameters are not supported")
            }
            guard !path.isEmpty else {
                throw SMTPParserError(.syntax, "RCPT needs an address")
            }
            return .rcpt(try PathParser.mailbox(path))
        case "DATA":
            try self.noArgument(argument, verb: verb)
            return .data
        case "RSET":
            try self.noArgument(argument, verb: verb)
            return .rset
        case "QUIT":
            try self.noArgument(argument, verb: verb)
            return .quit
        case "STARTTLS":
            try self.noArgument(argument, verb: verb)
            return .startTLS
        case "NOOP":
            return .noop
        case "VRFY":
            guard !argument.isEmpty else {
                throw SMTPParserError(.syntax, "VRFY needs an argument")
            }
            return .vrfy(String(argument))
        case "HELP":
            return .help(argument.isEmpty ? nil : String(argument))
        default:
            throw SMTPParserError(.unknownCommand, "command not recognized")
        }
    }

    private static func helloDomain(_ argument: Substring, verb: String) throws(SMTPParserError) -> String {
        // Only the first word counts; some clients add text after it.
        let name = argument.prefix { $0 != " " }
        guard !name.isEmpty, name.utf8.allSatisfy(ParserPrimitives.isVisible) else {
            throw SMTPParserError(.syntax, "\(verb) needs a domain name or address literal")
        }
        return String(name)
    }

    private static func afterKeyword(
        _ keyword: String, in argument: Substring, verb: String
    ) throws(SMTPParserError) -> Substring {
        guard argument.uppercased().hasPrefix(keyword) else {
            throw SMTPParserError(.syntax, "expected \(verb) \(keyword)<address>")
        }
        return argument.dropFirst(keyword.count)
    }

    private static func noArgument(_ argument: Substring, verb: String) throws(SMTPParserError) {
        guard argument.isEmpty else {
            throw SMTPParserError(.syntax, "\(verb) takes no arguments")
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var text = self[...]
        while let last = text.last, last == " " || last == "\t" {
            text = text.dropLast()
        }
        return text
    }
}
