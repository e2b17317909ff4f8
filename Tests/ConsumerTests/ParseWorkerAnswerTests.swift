import Consumer
import Invites
import Testing

/// The parse worker's binary answer: what a worker writes reads back as it was, and what a
/// misbehaving worker writes is refused, never trusted or crashed on.
@Suite("Parse worker answer")
struct ParseWorkerAnswerTests {
    static let full: InviteParseResult = {
        var request = EventRequest(
            method: "request", requestId: "msg-1", originalUID: "uid-é😀@example.com", sequence: -3, mailto: "a@example.com",
            returnPath: nil, organizer: EventOrganizer(email: "o@example.com", name: nil, sentBy: "s@example.com"),
            summary: "quote \" back \\ nul \u{0} line\n", description: "", location: nil,
            start: EventTime(year: 2026, month: 12, day: 2, hour: 16, minute: 30, second: 59, kind: .utc, tzid: "Europe/Berlin"),
            end: EventTime(year: 2026, month: 12, day: 3, kind: .date), dtstamp: EventTime(year: 1, month: 1, day: 1, kind: .floating),
            attendees: [EventAttendee(email: "x@example.com", name: "X", partstat: "ACCEPTED", role: "CHAIR", rsvp: true)],
            rrule: "FREQ=WEEKLY;COUNT=3", bucket: "b", key: "incoming/k")
        request.recurrenceId = EventTime(year: 2026, month: 12, day: 9, kind: .utc)
        request.overrides = [
            EventOverride(
                recurrenceId: EventTime(year: 2026, month: 12, day: 16, kind: .utc), sequence: Int.max, start: nil,
                end: EventTime(year: 2026, month: 12, day: 16, hour: 1, kind: .utc), summary: nil, description: "d", location: "l",
                status: "CANCELLED", attendees: [])
        ]
        return .requests([request, EventRequest(method: "publish", requestId: "msg-1", originalUID: "second", sequence: Int.min)])
    }()

    static var failure: InviteParseResult {
        var failure = InviteFailure(reason: "no calendar", requestId: "msg-2", mailto: nil, returnPath: "r@example.com", method: "cancel")
        failure.notify = false
        failure.refusedRequest = .init(originalUID: "u", sequence: 7, route: "update")
        return .failure(failure)
    }

    @Test func everyCaseReadsBackAsItWasWritten() throws {
        for result in [Self.full, Self.failure, .ignored(reason: "a delivery status notification"), .requests([])] {
            let decoded = try ParseWorkerAnswer.decode(ParseWorkerAnswer.encode(result))
            #expect(String(describing: decoded) == String(describing: result))
        }
        let requests = try ParseWorkerAnswer.decode(ParseWorkerAnswer.encode(Self.full))
        guard case .requests(let decoded) = requests, case .requests(let original) = Self.full else {
            Issue.record("not requests: \(requests)")
            return
        }
        #expect(decoded == original)
    }

    @Test func everyTruncationAndAnyTrailingByteIsRefused() {
        let bytes = ParseWorkerAnswer.encode(Self.full)
        for length in 0..<bytes.count {
            #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode(Array(bytes[..<length])) }
        }
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode(bytes + [0]) }
    }

    @Test func unknownTagsFlagsKindsAndHugeCountsAreRefused() {
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode([4]) }
        // .ignored with a reason announcing 4 GiB.
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode([3, 0xFF, 0xFF, 0xFF, 0xFF, 0x41]) }
        // .requests announcing 16 million requests in 1 byte.
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode([1, 0x00, 0xFF, 0xFF, 0xFF, 0x00]) }
        // .ignored whose reason is not UTF-8.
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode([3, 0, 0, 0, 2, 0xC3, 0x28]) }
        // A failure whose notify flag is 2.
        var failure = ParseWorkerAnswer.encode(Self.failure)
        let flagOffset = failure.count - 1 - (1 + 4 + 1 + 8 + 4 + 6)
        #expect(failure[flagOffset] == 0)
        failure[flagOffset] = 2
        #expect(throws: ParseWorkerAnswer.Malformed.self) { try ParseWorkerAnswer.decode(failure) }
    }

    /// Flipped bytes anywhere give a refusal or some value, never a crash or a hang.
    @Test func corruptedAnswersNeverCrash() {
        let bytes = ParseWorkerAnswer.encode(Self.full)
        var generator = SplitMix64(seed: 0x5EED)
        var refused = 0
        for _ in 0..<20_000 {
            var corrupted = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                corrupted[Int.random(in: 0..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if (try? ParseWorkerAnswer.decode(corrupted)) == nil { refused += 1 }
        }
        #expect(refused > 0)
    }
}

/// A seeded generator: the same corruptions on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var value = self.state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE5_E9B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
