import Foundation
import Testing

@testable import Operations

@Suite struct ActivityWindowTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func intake(_ id: String?, at offset: TimeInterval, failure: String? = nil) -> IntakeActivity {
        IntakeActivity(
            messageId: id, receivedAt: self.start.addingTimeInterval(offset), clientAddress: "127.0.0.1",
            envelopeSender: "organizer@example.com", size: 1234, recipients: 1, tls: true, latency: .milliseconds(8),
            failure: failure)
    }

    @Test func theIntakeAndTheConsumerFillOneRowPerMessage() {
        var window = ActivityWindow(capacity: 10)
        window.record(self.intake("M1", at: 0))
        window.record(
            ConsumerActivityRecord(
                messageId: "M1", at: self.start.addingTimeInterval(1), outcome: .published, route: "create", uid: "uid-1",
                summary: "Planning"))
        window.record(
            ConsumerActivityRecord(messageId: "M1", at: self.start.addingTimeInterval(1), outcome: .completed, duration: .milliseconds(40)))
        let snapshot = window.snapshot(now: self.start.addingTimeInterval(2), limit: 10)
        #expect(snapshot.messages.count == 1)
        let row = snapshot.messages[0]
        #expect(row.messageId == "M1")
        #expect(row.client == "127.0.0.1")
        #expect(row.sender == "organizer@example.com")
        #expect(row.routes == ["create"])
        #expect(row.uid == "uid-1")
        #expect(row.summary == "Planning")
        #expect(row.status == "published")
        #expect(row.stored)
        #expect(snapshot.routeCounts == ["create": 1])
        let last = snapshot.series.last!
        #expect(last.intakeMessages == 1)
        #expect(last.intakeLatencyMilliseconds == 8)
        #expect(last.consumerMessages == 1)
        #expect(last.consumerLatencyMilliseconds == 40)
        #expect(snapshot.series.count == ActivityWindow.minutes)
    }

    @Test func aConsumerResultBeforeTheIntakeReplyIsKept() {
        var window = ActivityWindow(capacity: 10)
        window.record(ConsumerActivityRecord(messageId: "M2", at: self.start, outcome: .published, route: "cancel", uid: "u"))
        window.record(self.intake("M2", at: 0))
        let row = window.snapshot(now: self.start, limit: 10).messages[0]
        #expect(row.routes == ["cancel"])
        #expect(row.status == "published")
        #expect(row.client == "127.0.0.1")
    }

    @Test func failuresAreCountedByReasonAndRefusalsShowTheirReply() {
        var window = ActivityWindow(capacity: 10)
        window.record(self.intake(nil, at: 0, failure: "not stored, answered 451: disk full"))
        window.record(
            ConsumerActivityRecord(
                messageId: "M3", at: self.start, outcome: .published, route: "failure", failureReason: "No calendar part."))
        window.record(
            ConsumerActivityRecord(
                messageId: "M4", at: self.start, outcome: .deadLettered, failureReason: "parse: crashed", duration: .seconds(1)))
        let snapshot = window.snapshot(now: self.start, limit: 10)
        #expect(snapshot.failureReasonCounts == ["No calendar part.": 1, "parse: crashed": 1])
        #expect(snapshot.routeCounts == ["failure": 1, "dead-letter": 1])
        let refused = snapshot.messages.first { $0.status == "refused (451)" }
        #expect(refused?.stored == false)
        #expect(refused?.failureReason == "not stored, answered 451: disk full")
        #expect(snapshot.series.last?.intakeFailures == 1)
    }

    @Test func theWindowKeepsTheNewestRowsAndTheLastHour() {
        var window = ActivityWindow(capacity: 3)
        for index in 0..<5 {
            window.record(self.intake("M\(index)", at: Double(index)))
        }
        let snapshot = window.snapshot(now: self.start.addingTimeInterval(10), limit: 10)
        #expect(snapshot.messages.map(\.messageId) == ["M4", "M3", "M2"])
        #expect(window.snapshot(now: self.start, limit: 2).messages.map(\.messageId) == ["M4", "M3"])
        // An hour and a minute later nothing is counted any more, though the rows stay listed.
        let later = window.snapshot(now: self.start.addingTimeInterval(3660), limit: 10)
        #expect(later.series.allSatisfy { $0.intakeMessages == 0 })
        #expect(later.messages.count == 3)
    }

    /// Rows are found by message id after rows before them were dropped; a dropped message's
    /// consumer result gets a row of its own, and a repeated id updates its newest row.
    @Test func rowsAreFoundByIdAcrossDrops() {
        var window = ActivityWindow(capacity: 3)
        for index in 0..<7 {
            window.record(self.intake("M\(index)", at: Double(index)))
        }
        window.record(ConsumerActivityRecord(messageId: "M5", at: self.start, outcome: .published, route: "create", uid: "u5"))
        window.record(ConsumerActivityRecord(messageId: "M1", at: self.start, outcome: .published, route: "cancel", uid: "u1"))
        var messages = window.snapshot(now: self.start, limit: 10).messages
        #expect(messages.map(\.messageId) == ["M1", "M6", "M5"])
        #expect(messages.first { $0.messageId == "M5" }?.routes == ["create"])
        #expect(messages.first { $0.messageId == "M5" }?.client == "127.0.0.1")
        #expect(messages.first { $0.messageId == "M1" }?.client == nil)
        window.record(self.intake("M1", at: 8))
        messages = window.snapshot(now: self.start, limit: 10).messages
        #expect(messages.map(\.messageId) == ["M1", "M6", "M5"])
        #expect(messages[0].routes == ["cancel"] && messages[0].client == "127.0.0.1")
    }

    @Test func clientTextIsClippedAndReasonsAreBounded() {
        var window = ActivityWindow(capacity: 100)
        var long = self.intake("M", at: 0)
        long.envelopeSender = String(repeating: "a", count: 5000) + "@example.com"
        window.record(long)
        for index in 0..<(ActivityWindow.maximumReasonsPerMinute + 5) {
            window.record(
                ConsumerActivityRecord(messageId: "F\(index)", at: self.start, outcome: .published, route: "failure", failureReason: "reason \(index)"))
        }
        let snapshot = window.snapshot(now: self.start, limit: 100)
        #expect(snapshot.messages.last!.sender!.count == ActivityWindow.maximumTextLength + 1)
        #expect(snapshot.failureReasonCounts.count == ActivityWindow.maximumReasonsPerMinute + 1)
        #expect(snapshot.failureReasonCounts["other reasons"] == 5)
    }
}
