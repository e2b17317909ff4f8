import Foundation
import Testing

@testable import Notifications

@Suite("JSON value reader")
struct JSONValueReaderTests {
    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""q\"b\\s\/""#, "q\"b\\s/"),
        (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC""#, "Aé€"),
        (#""\ud83d\ude00 smile""#, "😀 smile"),
        (#""nul\u0000byte""#, "nul\u{0}byte"),
        (#""é€😀 raw UTF-8""#, "é€😀 raw UTF-8"),
        (#""mixed é \n after""#, "mixed é \n after"),
    ])
    func readsStringsWithEscapes(json: String, expected: String) throws {
        #expect(try JSONValueReader.read(json) == .string(expected))
    }

    @Test(arguments: [
        #""\ud800""#,  // a lone high surrogate
        #""\ud800x""#,
        #""\ud800\u0041""#,  // a high surrogate followed by a non-surrogate
        #""\udc00""#,  // a lone low surrogate
        #""\u12""#,  // too few hex digits
        #""\u12g4""#,
        #""\x41""#,  // an unknown escape
        "\"tab\there\"",  // a raw control character
        "\"line\nbreak\"",
        #""unterminated"#,
        #""ends in escape\"#,
    ])
    func refusesMalformedStrings(json: String) {
        #expect(throws: JSONValueReader.Failure.self) { try JSONValueReader.read(json) }
    }

    @Test func refusesStringsThatAreNotUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONValueReader.Failure.self) {
                try bytes.withUnsafeBufferPointer { buffer throws(JSONValueReader.Failure) in try JSONValueReader.read(buffer) }
            }
        }
    }

    @Test(arguments: [
        ("0", 0), ("-0", 0), ("42", 42), ("-17", -17), ("1.0", 1), ("1e2", 100), ("1E+2", 100), ("2500e-2", 25),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func readsWholeNumbers(json: String, expected: Int) throws {
        #expect(try JSONValueReader.read(json).integer == expected)
    }

    @Test(arguments: ["1.5", "9223372036854775808", "1e400", "-1e19"])
    func numbersThatAreNoIntegerHaveNone(json: String) throws {
        #expect(try JSONValueReader.read(json).integer == nil)
    }

    @Test(arguments: ["01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "1.2.3", "--1", "NaN", "Infinity"])
    func refusesMalformedNumbers(json: String) {
        #expect(throws: JSONValueReader.Failure.self) { try JSONValueReader.read(json) }
    }

    @Test func readsNestedValuesInOrder() throws {
        let value = try JSONValueReader.read(#" { "b" : [ 1 , { "c" : null } , true , false ] , "a" : { } , "e" : [ ] } "#)
        #expect(
            value
                == .object(
                    JSONObject(members: [
                        .init(key: "b", value: .array([.number("1"), .object(JSONObject(members: [.init(key: "c", value: .null)])), .bool(true), .bool(false)])),
                        .init(key: "a", value: .object(JSONObject())),
                        .init(key: "e", value: .array([])),
                    ])))
    }

    @Test func whitespaceIsTheFourJSONCharactersOnly() throws {
        #expect(try JSONValueReader.read("\t\r\n {\"a\" :\t1 }\n\r\t ") == .object(JSONObject(members: [.init(key: "a", value: .number("1"))])))
        for json in ["\u{0B}{}", "{}\u{0C}", "\u{A0}{}", "{\u{2028}}"] {
            #expect(throws: JSONValueReader.Failure.self) { try JSONValueReader.read(json) }
        }
    }

    @Test func skipsAByteOrderMark() throws {
        #expect(try JSONValueReader.read("\u{FEFF}{}") == .object(JSONObject()))
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"b":{"c":1,"c":1}}"#, #"{"\u0061":1,"a":2}"#,
    ])
    func refusesAKeyTwice(json: String) {
        #expect(throws: JSONValueReader.Failure.self) { try JSONValueReader.read(json) }
    }

    @Test func refusesAKeyTwiceInALargeObject() throws {
        let members = (0..<100).map { "\"k\($0)\":\($0)" }
        #expect(try JSONValueReader.read("{" + members.joined(separator: ",") + "}") != .null)
        #expect(throws: JSONValueReader.Failure.self) {
            try JSONValueReader.read("{" + (members + ["\"k7\":0"]).joined(separator: ",") + "}")
        }
    }

    @Test(arguments: [
        "", " ", "{", "[", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "[1,", "[1,]", "{\"a\":1,}", "{,}", "[,]",
        "{\"a\" 1}", "{a:1}", "{'a':1}", "{1:1}", "tru", "nul", "falsey", "{} {}", "{}x", "[1 2]", "// c\n{}",
    ])
    func refusesTruncatedAndMalformedDocuments(json: String) {
        #expect(throws: JSONValueReader.Failure.self) { try JSONValueReader.read(json) }
    }

    @Test func everyStrictPrefixOfADocumentIsRefused() throws {
        let document = #"{"Records":[{"s3":{"object":{"key":"a\u00e9b","size":12}},"x":[true,false,null,-1.5e3]}]}"#
        #expect(throws: Never.self) { try JSONValueReader.read(document) }
        let bytes = Array(document.utf8)
        for length in 0..<bytes.count {
            #expect(throws: JSONValueReader.Failure.self) {
                try Array(bytes[..<length]).withUnsafeBufferPointer { buffer throws(JSONValueReader.Failure) in try JSONValueReader.read(buffer) }
            }
        }
    }

    @Test func nestingIsBoundedWithoutExhaustingTheStack() throws {
        let limit = JSONValueReader.defaultMaximumDepth
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try JSONValueReader.read(atLimit) }
        let objects = String(repeating: "{\"a\":", count: limit) + "1" + String(repeating: "}", count: limit)
        #expect(throws: Never.self) { try JSONValueReader.read(objects) }
        for depth in [limit + 1, 100_000] {
            #expect(throws: JSONValueReader.Failure.self) {
                try JSONValueReader.read(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            }
            #expect(throws: JSONValueReader.Failure.self) {
                try JSONValueReader.read(String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth))
            }
        }
    }

    @Test func agreesWithFoundationOnWhatFoundationWrites() throws {
        let strings = ["plain", "quote \" backslash \\ slash /", "controls \u{0}\u{1}\u{1F}\t\n", "é€😀", "\u{2028}\u{2029}", ""]
        let data = try JSONSerialization.data(withJSONObject: ["s": strings, "n": [0, -1, 123_456_789]])
        let value = try Data(data).withUnsafeBytes { raw throws(JSONValueReader.Failure) in
            try JSONValueReader.read(raw.bindMemory(to: UInt8.self))
        }
        guard case .object(let object) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(object["s"] == .array(strings.map { .string($0) }))
        #expect(object["n"] == .array([.number("0"), .number("-1"), .number("123456789")]))
    }
}
