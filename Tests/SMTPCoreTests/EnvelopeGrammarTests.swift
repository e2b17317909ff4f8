import SMTPCore
import Testing

/// RFC 5321 §4.1.2 paths, table-driven: what a MAIL FROM path may and may not hold. Each
/// row is the text between `<` and `>` and whether the parser must accept it.
struct PathFixture: Sendable, CustomTestStringConvertible {
    var path: String
    var valid: Bool
    var testDescription: String { "\(self.valid ? "valid" : "invalid") \(self.path.debugDescription)" }

    static func valid(_ path: String) -> Self { Self(path: path, valid: true) }
    static func invalid(_ path: String) -> Self { Self(path: path, valid: false) }
}

@Suite struct EnvelopeGrammarTests {
    static let paths: [PathFixture] = [
        // Dot-string = Atom *("." Atom); Atom = 1*atext
        .valid("a@example.com"),
        .valid("first.last@example.com"),
        .valid("!#$%&'*+-/=?^_`{|}~@example.com"),
        .invalid(".a@example.com"),
        .invalid("a.@example.com"),
        .invalid("a..b@example.com"),
        .invalid("a b@example.com"),
        .invalid("a(b)@example.com"),
        .invalid("a,b@example.com"),
        .invalid("a[b]@example.com"),
        .invalid("a\\b@example.com"),
        .invalid("a\"b@example.com"),
        // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
        // qtextSMTP = %d32-33 / %d35-91 / %d93-126; quoted-pairSMTP = %d92 %d32-126
        .valid("\"\"@example.com"),
        .valid("\"john doe\"@example.com"),
        .valid("\"a@b\"@example.com"),
        .valid("\"a>b\"@example.com"),
        .valid("\"a\\\"b\"@example.com"),
        .valid("\"a\\\\b\"@example.com"),
        .valid("\"a\\ b\"@example.com"),
        .valid("\"~!#$%&'()*+,-./:;<=>?[]^_`{|}\"@example.com"),
        .invalid("\"a\rb\"@example.com"),
        .invalid("\"a\nb\"@example.com"),
        .invalid("\"a\tb\"@example.com"),
        .invalid("\"a\u{7F}b\"@example.com"),
        .invalid("\"a\u{1B}b\"@example.com"),
        .invalid("\"a\u{85}b\"@example.com"),
        .invalid("\"a\\\rb\"@example.com"),
        .invalid("\"a\\\tb\"@example.com"),
        .invalid("\"a\"b\"@example.com"),
        .invalid("\"a\\\"@example.com"),
        .invalid("\"unterminated@example.com"),
        .invalid("\"a\"@"),
        .invalid("\"a\"example.com"),
        // Domain = sub-domain *("." sub-domain); Let-dig [Ldh-str]
        .valid("a@b"),
        .valid("a@x-y.example"),
        .valid("a@123.example"),
        .invalid("a@-x.example"),
        .invalid("a@x-.example"),
        .invalid("a@x..example"),
        .invalid("a@.example"),
        .invalid("a@example."),
        .invalid("a@exa_mple.com"),
        .invalid("a@exa mple.com"),
        .invalid("a@"),
        .invalid("@example.com"),
        .invalid("a"),
        // address-literal = "[" ( IPv4 / IPv6 / General ) "]"
        .valid("a@[192.0.2.1]"),
        .valid("a@[IPv6:2001:db8::1]"),
        .invalid("a@[192.0.2.1"),
        .invalid("a@[]"),
        .invalid("a@[a b]"),
        .invalid("a@[a\\]]"),
        // A-d-l (source route) is accepted and dropped (§4.1.1.3, Appendix C).
        .valid("@relay.example:a@example.com"),
        .valid("@r1.example,@r2.example:a@example.com"),
        .invalid("@relay.example"),
        // Lengths (§4.5.3.1.1, .2).
        .valid(String(repeating: "a", count: 64) + "@example.com"),
        .invalid(String(repeating: "a", count: 65) + "@example.com"),
        // UTF-8 (RFC 6531 §3.3): the grammar takes it; the session asks for SMTPUTF8.
        .valid("jöran@exämple.de"),
        .valid("\"jö ran\"@example.com"),
        .invalid("a\u{85}b@example.com"),
        .invalid("a@ex\u{85}ample.com"),
        .invalid("a\u{0}b@example.com"),
    ]

    @Test(arguments: Self.paths)
    func mailFromPath(_ fixture: PathFixture) {
        let line = Array("MAIL FROM:<\(fixture.path)> SMTPUTF8".utf8)
        let result = Result { () throws(SMTPParserError) in try CommandParser.parse(line) }
        switch result {
        case .success(let command):
            #expect(fixture.valid, "accepted as \(command)")
        case .failure(let error):
            #expect(!fixture.valid, "refused: \(error)")
            #expect(error.kind == .syntax)
        }
    }

    @Test(arguments: Self.paths.filter { !$0.path.hasPrefix("@") })
    func rcptToPath(_ fixture: PathFixture) {
        let result = Result { () throws(SMTPParserError) in
            try CommandParser.parse(Array("RCPT TO:<\(fixture.path)>".utf8))
        }
        #expect(((try? result.get()) != nil) == fixture.valid)
    }

    @Test func aQuotedLocalPartKeepsItsBackslashesAndQuotes() throws {
        let command = try CommandParser.parse(Array("MAIL FROM:<\"a\\\"b c\"@example.com>".utf8))
        #expect(command == .mail(.mailbox(Mailbox(localPart: "\"a\\\"b c\"", domain: "example.com")), MailParameters()))
    }

    @Test func aBareCRInAQuotedLocalPartIsRefused() throws {
        // The issue's example: it used to be accepted, echoed and stored as the sender.
        let error = try #require(throws: SMTPParserError.self) {
            try CommandParser.parse(Array("MAIL FROM:<\"a\rb\"@x>".utf8))
        }
        #expect(error.kind == .syntax)
    }

    static let controls: [UInt8] = Array(0x01...0x08) + Array(0x0A...0x1F) + [0x7F]

    @Test(arguments: Self.controls)
    func noCommandTakesAControlCharacter(_ control: UInt8) {
        for prefix in ["EHLO a", "HELO a", "NOOP a", "VRFY a", "HELP a", "MAIL FROM:<a@b> ", "RCPT TO:<a@b>"] {
            let line = Array(prefix.utf8) + [control] + Array("x".utf8)
            #expect(throws: SMTPParserError.self, "\(prefix) + \(control)") { try CommandParser.parse(line) }
        }
    }

    @Test func trailingTabsAreWhiteSpace() throws {
        #expect(try CommandParser.parse(Array("NOOP\t".utf8)) == .noop)
    }

    @Test(arguments: [
        ("HELO client.example", true),
        ("HELO [192.0.2.1]", true),
        ("HELO clïent.example", false),
        ("EHLO clïent.example", true),
        ("EHLO client\u{85}.example", false),
        ("EHLO client\u{7F}.example", false),
    ])
    func helloNames(line: String, valid: Bool) {
        let result = Result { () throws(SMTPParserError) in try CommandParser.parse(Array(line.utf8)) }
        #expect(((try? result.get()) != nil) == valid)
    }

    @Test func repliesEscapeTheControlsOfEchoedText() {
        #expect(SMTPReply.echo("a\rb\nc\u{0}d\u{7F}e\u{85}f ö") == "a\\x0Db\\x0Ac\\x00d\\x7Fe\\x85f ö")
        let reply = SMTPReply.unknownUser(Mailbox(localPart: "\"a\r\nb\"", domain: "x"))
        #expect(!reply.description.dropLast(2).contains("\r"))
        #expect(!reply.description.dropLast(2).contains("\n"))
        let ehlo = SMTPReply.ehlo(hostname: "mx.test", clientName: "a\r\n250 fake", extensions: [])
        #expect(ehlo.description == "250 mx.test greets a\\x0D\\x0A250 fake\r\n")
    }
}
