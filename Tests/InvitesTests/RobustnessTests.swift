import Foundation
import Invites
import Notifications
import TestSupport
import Testing

/// Damaged input never crashes the process, and parsing is safe from several tasks at once.
@Suite("Robustness")
struct RobustnessTests {
    static func corpusMessages() throws -> [(name: String, bytes: [UInt8])] {
        let corpus = try FixturePaths.corpus()
        return try CorpusTests.expectations().map { ($0.testDescription, try $0.message(in: corpus)) }
    }

    @Test("every corpus message cut short at 16 points gives an outcome, never a crash", .sharedData(FixturePaths.corpusDirectory))
    func truncatedCorpus() throws {
        var outcomes = 0
        for (name, bytes) in try Self.corpusMessages() where bytes.count > 16 {
            for cut in stride(from: bytes.count / 16, to: bytes.count, by: max(1, bytes.count / 16)).prefix(16) {
                let input = InviteInput(message: Array(bytes[..<cut]), bucket: "b", key: name, envelopeSender: nil)
                switch InviteParser.parse(input) {
                case .requests(let requests): #expect(!requests.isEmpty, "\(name) cut at \(cut): empty requests")
                case .failure(let failure): #expect(!failure.reason.isEmpty, "\(name) cut at \(cut): empty reason")
                case .ignored(let reason): #expect(!reason.isEmpty, "\(name) cut at \(cut): empty reason")
                }
                outcomes += 1
            }
        }
        #expect(outcomes > 1000)
    }

    @Test("hostile calendar text: NUL bytes, deep nesting, huge lines, bad dates")
    func hostileCalendars() {
        let nesting = String(repeating: "BEGIN:VEVENT\r\n", count: 5000)
        let cases: [String] = [
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a\u{0}b\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + nesting,
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:" + String(repeating: "x", count: 1_000_000) + "\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:99999999T999999Z\r\nDTEND;TZID=Nowhere/Zone:20241301T250000\r\nDURATION:PXYZ\r\nSEQUENCE:abc\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:Broken\r\nBEGIN:STANDARD\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART;TZID=Broken:20240101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "END:VCALENDAR\r\nEND:VEVENT\r\n",
        ]
        for text in cases {
            let input = InviteInput(message: Array(text.utf8), bucket: "b", key: "k", envelopeSender: nil)
            switch InviteParser.parse(input) {
            case .requests(let requests): #expect(requests.allSatisfy { !$0.originalUID.isEmpty })
            case .failure(let failure): #expect(!failure.reason.isEmpty)
            case .ignored(let reason): #expect(!reason.isEmpty)
            }
        }
    }

    @Test("deeply nested multiparts are walked to a bounded depth")
    func deepMultipart() {
        var message = "From: a@example.com\r\nMIME-Version: 1.0\r\n"
        for level in 0..<200 {
            message += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\r\n\r\n--b\(level)\r\n"
        }
        message += "Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        let result = InviteParser.parse(InviteInput(message: Array(message.utf8), bucket: "b", key: "k", envelopeSender: nil))
        guard case .failure(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.reason.contains("calendar"))
    }

    @Test("a message nested 100,000 levels deep (about 6 MB) is answered, not a stack overflow")
    func extremeNesting() async {
        var multipart = "From: a@example.com\r\nMIME-Version: 1.0\r\n"
        var forwarded = multipart
        for level in 0..<100_000 {
            multipart += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\r\n\r\n--b\(level)\r\n"
            forwarded += "Content-Type: message/rfc822\r\n\r\nFrom: x@example.com\r\n"
        }
        for message in [multipart, forwarded] {
            let input = InviteInput(message: Array(message.utf8), bucket: "b", key: "k", envelopeSender: nil)
            // On a task of the cooperative pool, where the consumer's work may also run.
            let result = await Task { InviteParser.parse(input) }.value
            #expect(result.failure?.reason.contains("calendar") == true)
        }
    }

    @Test("parsing from eight tasks at once gives the same results as one at a time", .sharedData(FixturePaths.corpusDirectory))
    func concurrentParsing() async throws {
        let messages = try Self.corpusMessages().filter { $0.bytes.count < 200_000 }
        let sequential = messages.map { Self.summary(InviteParser.parse(InviteInput(message: $0.bytes, bucket: "b", key: $0.name, envelopeSender: nil))) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for round in 0..<8 {
                for (index, message) in messages.enumerated() where index % 8 == round {
                    group.addTask {
                        let result = InviteParser.parse(InviteInput(message: message.bytes, bucket: "b", key: message.name, envelopeSender: nil))
                        return (index, Self.summary(result))
                    }
                }
            }
            var results = Array(repeating: "", count: messages.count)
            for try await (index, summary) in group { results[index] = summary }
            return results
        }
        #expect(concurrent == sequential)
    }

    private static func summary(_ result: InviteParseResult) -> String {
        switch result {
        case .requests(let requests): return requests.map { $0.json(route: .create) }.joined(separator: "\n")
        case .failure(let failure): return failure.json()
        case .ignored(let reason): return "ignored: " + reason
        }
    }
}
