import Invites
import Testing

@Suite("HTML escaping")
struct HTMLEscapingTests {
    @Test("the five special characters are escaped")
    func specialCharacters() {
        #expect(HTMLEscaping.escape("<b>\"Tom\" & 'Jerry'</b>") == "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;")
    }

    @Test("an existing entity is escaped again, not trusted")
    func existingEntity() {
        #expect(HTMLEscaping.escape("&amp;") == "&amp;amp;")
    }

    @Test("other text, non-ASCII and new lines included, is unchanged")
    func plainText() {
        #expect(HTMLEscaping.escape("Café Zürich\nRoom 4 – 2nd floor") == "Café Zürich\nRoom 4 – 2nd floor")
        #expect(HTMLEscaping.escape("") == "")
    }

    @Test("a script tag cannot survive")
    func scriptTag() {
        let escaped = HTMLEscaping.escape("<script>alert(1)</script>")
        #expect(!escaped.contains("<"))
        #expect(!escaped.contains(">"))
    }
}
