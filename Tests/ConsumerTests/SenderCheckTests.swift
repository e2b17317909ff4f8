@testable import Consumer
import Foundation
import Notifications
import Testing

@Suite("Sender check")
struct SenderCheckTests {
    @Test("an IPv4-mapped IPv6 client is checked as its IPv4 address", arguments: [
        ("::ffff:192.0.2.1", "192.0.2.1"), ("::FFFF:10.1.2.3", "10.1.2.3"), ("192.0.2.1", "192.0.2.1"), ("2001:db8::1", "2001:db8::1"),
        ("::ffff:c000:201", "::ffff:c000:201"),
    ])
    func clientAddress(recorded: String, checked: String) {
        #expect(SenderCheck.spfClientAddress(recorded) == checked)
    }

    @Test("a temperror may be retried only within the period after the intake's receivedAt", arguments: [
        ("2026-12-02T10:00:00.000Z", 3599.0, true), ("2026-12-02T10:00:00.000Z", 3600.0, false),
        ("2026-12-02T10:00:00.000Z", -5.0, true), ("", 10.0, false), ("yesterday", 10.0, false),
    ])
    func retryPeriod(receivedAt: String, secondsLater: Double, retried: Bool) {
        let received = Date(timeIntervalSince1970: 1_796_205_600)  // 2026-12-02T10:00:00Z
        #expect(ISO8601Timestamp.string(from: received) == "2026-12-02T10:00:00.000Z")
        let now = received.addingTimeInterval(secondsLater)
        #expect(SenderCheck.arrivedWithin(.seconds(3600), receivedAt: receivedAt, now: now) == retried)
        #expect(!SenderCheck.arrivedWithin(.zero, receivedAt: receivedAt, now: received.addingTimeInterval(0.5)))
    }
}
