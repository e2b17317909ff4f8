import Testing

@testable import Notifications

@Suite("S3 event key encoding")
struct S3EventKeyTests {
    @Test(arguments: [
        ("plain-key", "plain-key"),
        ("with+space", "with space"),
        ("literal%2Bplus", "literal+plus"),
        ("slash/kept/as/is", "slash/kept/as/is"),
        ("percent%25sign", "percent%sign"),
        ("%E2%9C%93check", "✓check"),
        ("lower%c3%a9case", "lowerécase"),
        ("", ""),
    ])
    func decodes(encoded: String, decoded: String) {
        #expect(S3EventKey.decode(encoded) == decoded)
    }

    @Test(arguments: ["%", "%4", "%G0", "ab%zz", "%C3"])
    func rejectsMalformedEscapes(encoded: String) {
        #expect(S3EventKey.decode(encoded) == nil)
    }
}
