import Invites
import Testing

@Suite("RFC 5322 addresses")
struct MailAddressTests {
    @Test("a bare addr-spec")
    func bareAddress() {
        #expect(MailAddress.parseList("alice@example.com") == [MailAddress(name: nil, address: "alice@example.com")])
    }

    @Test("a display name and angle brackets")
    func displayName() {
        #expect(
            MailAddress.parseList("Alice Example <alice@example.com>")
                == [MailAddress(name: "Alice Example", address: "alice@example.com")])
    }

    @Test("a quoted display name with a comma stays one mailbox")
    func quotedDisplayName() {
        #expect(
            MailAddress.parseList("\"Example, Alice\" <alice@example.com>, bob@example.org")
                == [
                    MailAddress(name: "Example, Alice", address: "alice@example.com"),
                    MailAddress(name: nil, address: "bob@example.org"),
                ])
    }

    @Test("an encoded-word display name is decoded")
    func encodedWord() {
        let parsed = MailAddress.parseList("=?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>")
        #expect(parsed == [MailAddress(name: "Jörg Müller", address: "joerg@example.de")])
        let base64 = MailAddress.parseList("=?UTF-8?B?5bGx55Sw?= <yamada@example.jp>")
        #expect(base64 == [MailAddress(name: "山田", address: "yamada@example.jp")])
    }

    @Test("a quoted local part keeps its quotes")
    func quotedLocalPart() {
        let parsed = MailAddress.parseList("\"john smith\"@example.com")
        #expect(parsed.count == 1)
        #expect(parsed.first?.address == "\"john smith\"@example.com")
    }

    @Test("a comment after the address is not part of it")
    func comment() {
        let parsed = MailAddress.parseList("MAILER-DAEMON@relay.example.com (Mail Delivery System)")
        #expect(parsed.first?.address == "MAILER-DAEMON@relay.example.com")
    }

    @Test("a group is flattened to its members")
    func group() {
        let parsed = MailAddress.parseList("Team: alice@example.com, Bob <bob@example.com>;")
        #expect(parsed.map(\.address) == ["alice@example.com", "bob@example.com"])
    }

    @Test("nothing addressable gives an empty list")
    func empty() {
        #expect(MailAddress.parseList("").isEmpty)
        #expect(MailAddress.parseList("<>").isEmpty)
        #expect(MailAddress.parseList("undisclosed-recipients:;").isEmpty)
    }
}
