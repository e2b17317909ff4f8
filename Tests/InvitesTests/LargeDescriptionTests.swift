import Invites
import Notifications
import Testing

@Suite("Large input")
struct LargeDescriptionTests {
    @Test("a 5 MB DESCRIPTION, base64-encoded and folded, survives intact")
    func fiveMegabyteDescription() throws {
        let paragraph = "Agenda item with Ünïcode, commas\\, and semicolons\\; "
        let count = 5 * 1024 * 1024 / paragraph.utf8.count + 1
        let description = String(repeating: paragraph, count: count) + "end"
        // Fold at 74 octets (RFC 5545 §3.1), never inside a UTF-8 sequence.
        var folded = "DESCRIPTION:"
        var lineLength = folded.utf8.count
        for character in description {
            let size = character.utf8.count
            if lineLength + size > 74 {
                folded += "\r\n "
                lineLength = 1
            }
            folded.append(character)
            lineLength += size
        }
        let calendar = TestMessage.calendar(method: "REQUEST", TestMessage.event(extra: folded))
        let message = "From: olga@example.com\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + InviteParserTests.base64(calendar)
        #expect(message.utf8.count > 5 * 1024 * 1024)
        let request = try #require(TestMessage.parse(Array(message.utf8)).requests?.first)
        let expected = String(repeating: "Agenda item with Ünïcode, commas, and semicolons; ", count: count) + "end"
        let parsed = try #require(request.description)
        #expect(parsed.utf8.count == expected.utf8.count)
        let identical = parsed == expected
        #expect(identical, "the parsed DESCRIPTION differs from the one sent")
        let json = request.json(route: .create)
        #expect(json.utf8.count > 2 * expected.utf8.count)
    }
}
