import SMTPCore
import Testing

/// A command line and what the parser must make of it.
struct CommandFixture: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
        case success(SMTPCommand)
        case failure(SMTPParserError.Kind)
    }

    var line: String
    var expectation: Expectation

    static func success(_ line: String, _ command: SMTPCommand) -> Self { Self(line: line, expectation: .success(command)) }
    static func failure(_ line: String, _ kind: SMTPParserError.Kind) -> Self {
        Self(line: line, expectation: .failure(kind))
    }

    var testDescription: String { self.line.debugDescription }
}

private let organizer = Mailbox(localPart: "organizer", domain: "example.com")
private let create = Mailbox(localPart: "create", domain: "localhost")

@Suite struct CommandParserTests {
    static let fixtures: [CommandFixture] = [
        .success("EHLO client.example", .ehlo("client.example")),
        .success("ehlo client.example", .ehlo("client.example")),
        .success("EHLO [127.0.0.1]", .ehlo("[127.0.0.1]")),
        .success("EHLO client.example trailing words", .ehlo("client.example")),
        .success("HELO client.example  ", .helo("client.example")),
        .failure("EHLO", .syntax),
        .failure("HELO ", .syntax),
        .success("MAIL FROM:<organizer@example.com>", .mail(.mailbox(organizer), MailParameters())),
        .success("mail from:<organizer@example.com>", .mail(.mailbox(organizer), MailParameters())),
        .success("MAIL FROM: <organizer@example.com>", .mail(.mailbox(organizer), MailParameters())),
        .success("MAIL FROM:<>", .mail(.null, MailParameters())),
        .success("MAIL FROM:<@relay.example:organizer@example.com>", .mail(.mailbox(organizer), MailParameters())),
        .success("MAIL FROM:<organizer@example.com> SIZE=1000", .mail(.mailbox(organizer), MailParameters(size: 1000))),
        .success(
            "MAIL FROM:<organizer@example.com> SIZE=99999999999999999999999",
            .mail(.mailbox(organizer), MailParameters(size: Int.max))),
        .success(
            "MAIL FROM:<organizer@example.com> BODY=8BITMIME",
            .mail(.mailbox(organizer), MailParameters(body: .eightBitMIME))),
        .success("MAIL FROM:<organizer@example.com> body=7bit", .mail(.mailbox(organizer), MailParameters(body: .sevenBit))),
        .success(
            "MAIL FROM:<organizer@example.com> SMTPUTF8 SIZE=12 BODY=8BITMIME",
            .mail(.mailbox(organizer), MailParameters(size: 12, body: .eightBitMIME, smtpUTF8: true))),
        .success(
            "MAIL FROM:<jöran@exämple.de> SMTPUTF8",
            .mail(.mailbox(Mailbox(localPart: "jöran", domain: "exämple.de")), MailParameters(smtpUTF8: true))),
        .success(
            "MAIL FROM:<\"john doe\"@example.com>",
            .mail(.mailbox(Mailbox(localPart: "\"john doe\"", domain: "example.com")), MailParameters())),
        .success(
            "MAIL FROM:<organizer@[192.0.2.1]>",
            .mail(.mailbox(Mailbox(localPart: "organizer", domain: "[192.0.2.1]")), MailParameters())),
        .failure("MAIL FROM:organizer@example.com", .syntax),
        .failure("MAIL FROM:<organizer@example.com", .syntax),
        .failure("MAIL TO:<organizer@example.com>", .syntax),
        .failure("MAIL FROM:<organizer>", .syntax),
        .failure("MAIL FROM:<organizer@>", .syntax),
        .failure("MAIL FROM:<@example.com>", .syntax),
        .failure("MAIL FROM:<a..b@example.com>", .syntax),
        .failure("MAIL FROM:<organizer@-example.com>", .syntax),
        .failure("MAIL FROM:<organizer@example..com>", .syntax),
        .failure("MAIL FROM:<organizer@example.com>junk", .syntax),
        .failure("MAIL FROM:<organizer@example.com> SIZE=", .syntax),
        .failure("MAIL FROM:<organizer@example.com> SIZE=12x", .syntax),
        .failure("MAIL FROM:<organizer@example.com> SIZE=1 SIZE=2", .syntax),
        .failure("MAIL FROM:<organizer@example.com> BODY=BINARYMIME", .syntax),
        .failure("MAIL FROM:<organizer@example.com> SMTPUTF8=yes", .syntax),
        .failure("MAIL FROM:<organizer@example.com> RET=HDRS", .unsupportedParameter),
        .failure("MAIL FROM:<\"unterminated@example.com>", .syntax),
        // Found by `cis-fuzz command-parser`: control characters (a CR passes the line decoder)
        // inside a quoted local part reached 550 reply texts and the `mail-from` object metadata.
        .failure("MAIL FROM:<\"a\rInjected: x\"@example.com>", .syntax),
        .failure("RCPT TO:<\"create\r\"@localhost>", .syntax),
        .failure("RCPT TO:<\"a\\\rb\"@localhost>", .syntax),
        .failure("RCPT TO:<\"a\tb\"@localhost>", .syntax),
        .failure("RCPT TO:<\"a\u{7F}b\"@localhost>", .syntax),
        .success("RCPT TO:<\"a\\\"b c\"@localhost>", .rcpt(Mailbox(localPart: "\"a\\\"b c\"", domain: "localhost"))),
        .success("RCPT TO:<create@localhost>", .rcpt(create)),
        .success("rcpt to: <create@localhost>", .rcpt(create)),
        .failure("RCPT TO:<>", .syntax),
        .failure("RCPT TO:create@localhost", .syntax),
        .failure("RCPT FROM:<create@localhost>", .syntax),
        .failure("RCPT TO:<create@localhost> NOTIFY=NEVER", .unsupportedParameter),
        .success("DATA", .data),
        .failure("DATA now", .syntax),
        .success("RSET", .rset),
        .failure("RSET all", .syntax),
        .success("NOOP", .noop),
        .success("NOOP anything", .noop),
        .success("QUIT", .quit),
        .failure("QUIT now", .syntax),
        .success("VRFY create", .vrfy("create")),
        .failure("VRFY", .syntax),
        .success("HELP", .help(nil)),
        .success("HELP MAIL", .help("MAIL")),
        .success("STARTTLS", .startTLS),
        .success("starttls", .startTLS),
        .failure("STARTTLS now", .syntax),
        .failure("EXPN staff", .unknownCommand),
        .failure("BDAT 10 LAST", .unknownCommand),
        .failure("", .unknownCommand),
        .failure("GET / HTTP/1.1", .unknownCommand),
    ]

    @Test(arguments: Self.fixtures)
    func parse(_ fixture: CommandFixture) throws {
        let result = Result { () throws(SMTPParserError) in try CommandParser.parse(Array(fixture.line.utf8)) }
        switch (fixture.expectation, result) {
        case (.success(let expected), .success(let command)):
            #expect(command == expected)
        case (.failure(let expected), .failure(let error)):
            #expect(error.kind == expected)
        case (.success, .failure(let error)):
            Issue.record("expected success, got \(error)")
        case (.failure(let expected), .success(let command)):
            Issue.record("expected \(expected), got \(command)")
        }
    }

    @Test func invalidUTF8IsASyntaxError() {
        #expect(throws: SMTPParserError(.syntax, "command line is not valid UTF-8 text")) {
            try CommandParser.parse(Array("MAIL FROM:<a@b.c>".utf8) + [0xFF])
        }
    }

    @Test func nulIsASyntaxError() throws {
        let error = try #require(throws: SMTPParserError.self) {
            try CommandParser.parse(Array("NOOP".utf8) + [0, 0x41])
        }
        #expect(error.kind == .syntax)
    }

    @Test func overlongLocalPartIsRefused() throws {
        let line = "RCPT TO:<\(String(repeating: "a", count: 65))@localhost>"
        let error = try #require(throws: SMTPParserError.self) { try CommandParser.parse(Array(line.utf8)) }
        #expect(error.kind == .syntax)
    }

    @Test func verbNamesItself() {
        #expect(SMTPCommand.startTLS.verb == "STARTTLS")
        #expect(SMTPCommand.mail(.null, MailParameters()).verb == "MAIL")
    }
}
