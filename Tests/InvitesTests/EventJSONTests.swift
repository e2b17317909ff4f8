import Foundation
import Invites
import Notifications
import TestSupport
import Testing

/// The direct event JSON encoder against the `JSONSerialization` output it replaced: same
/// members, same values, on every request and failure of the corpus and on hostile strings.
@Suite("Event JSON")
struct EventJSONTests {
    /// Every control character, quotes, backslashes, a slash, DEL, line and paragraph
    /// separators, non-ASCII, an emoji, a combining sequence, CRLF as one Character.
    static let hostile: String = {
        var text = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined()
        text += "\"\\/\u{7F}\u{2028}\u{2029}Café Zürich 😀 e\u{301} \r\n end </script>"
        return text
    }()

    static func hostileRequest(method: String) -> EventRequest {
        let time = EventTime(year: 2026, month: 12, day: 1, hour: 9, minute: 5, second: 7, kind: .utc, tzid: Self.hostile)
        let attendee = EventAttendee(email: Self.hostile, name: Self.hostile, partstat: "ACCEPTED", role: "CHAIR", rsvp: true)
        let override = EventOverride(
            recurrenceId: time, sequence: 3, start: time, end: nil, summary: Self.hostile, description: nil,
            location: Self.hostile, status: "CANCELLED", attendees: [attendee, attendee])
        return EventRequest(
            method: method, requestId: Self.hostile, originalUID: Self.hostile, sequence: -2, mailto: Self.hostile,
            returnPath: nil, organizer: EventOrganizer(email: Self.hostile, name: nil, sentBy: Self.hostile),
            summary: Self.hostile, description: Self.hostile, location: nil, start: time,
            end: EventTime(year: 2026, month: 12, day: 2, kind: .date), dtstamp: time, created: nil, lastModified: time,
            status: Self.hostile, prodid: Self.hostile, attendees: [attendee], rrule: Self.hostile, recurrenceId: time,
            overrides: [override, override], bucket: Self.hostile, key: Self.hostile)
    }

    @Test("hostile strings: the same JSON, byte for byte, as the sorted-keys serialization", arguments: ["request", "counter"])
    func hostileStrings(method: String) throws {
        let request = Self.hostileRequest(method: method)
        for route in Route.allCases {
            for truncated in [false, true] {
                let json = request.json(route: route, truncated: truncated)
                let reference = FoundationEventJSON.json(request, route: route, truncated: truncated)
                #expect(FoundationEventJSON.parsed(json) == FoundationEventJSON.parsed(reference))
                #expect(FoundationEventJSON.parsed(json) != nil)
                #expect(json == reference)
            }
        }
        let failure = InviteFailure(
            reason: Self.hostile, requestId: Self.hostile, mailto: Self.hostile, returnPath: nil, method: nil, bucket: "b", key: "k")
        for truncated in [false, true] {
            #expect(failure.json(truncated: truncated) == FoundationEventJSON.json(failure, truncated: truncated))
        }
    }

    @Test("control characters are escaped as RFC 8259 says, everything else is copied")
    func escapes() throws {
        var writer = JSONObjectWriter()
        writer.field("text", "a\u{0}\u{1F}\u{8}\u{C}\n\r\t\"\\/\u{7F}é😀")
        #expect(writer.finish() == #"{"text":"a\u0000\u001f\b\f\n\r\t\"\\/\#u{7F}é😀"}"#)
    }

    @Test("members come out in the order written, nested objects and arrays included")
    func order() {
        var writer = JSONObjectWriter()
        writer.field("z", 1)
        writer.field("a", nil as String?)
        writer.field("m", array: [1, 2]) { writer, value in writer.field("v", value) }
        writer.field("empty", array: [Int]()) { _, _ in }
        writer.field("o") { writer in
            writer.field("y", true)
            writer.field("b", false)
        }
        writer.field("last", "x")
        #expect(writer.finish() == #"{"z":1,"a":null,"m":[{"v":1},{"v":2}],"empty":[],"o":{"y":true,"b":false},"last":"x"}"#)
    }

    @Test("every request and failure of the corpus: the same JSON as the sorted-keys serialization", .sharedData(FixturePaths.corpusDirectory))
    func corpus() throws {
        var requests = 0
        var failures = 0
        for expectation in try CorpusTests.expectations() {
            let message = try expectation.message(in: FixturePaths.corpus())
            let input = InviteInput(
                message: message, bucket: "corpus", key: "incoming/" + expectation.testDescription, envelopeSender: "envelope@example.net")
            switch InviteParser.parse(input) {
            case .requests(let parsed):
                for request in parsed {
                    requests += 1
                    for route in Route.allCases {
                        let json = request.json(route: route)
                        let reference = FoundationEventJSON.json(request, route: route)
                        #expect(FoundationEventJSON.parsed(json) == FoundationEventJSON.parsed(reference), "\(expectation.testDescription)")
                        #expect(json == reference, "\(expectation.testDescription)")
                    }
                    #expect(request.json(route: .create, truncated: true) == FoundationEventJSON.json(request, route: .create, truncated: true))
                }
            case .failure(let failure):
                failures += 1
                #expect(failure.json() == FoundationEventJSON.json(failure), "\(expectation.testDescription)")
            case .ignored:
                break
            }
        }
        #expect(requests > 50)
        #expect(failures > 10)
    }
}
