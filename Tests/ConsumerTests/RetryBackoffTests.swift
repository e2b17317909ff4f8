import Testing

@testable import Consumer

@Suite("Retry backoff")
struct RetryBackoffTests {
    @Test func doublesFromTheBaseUpToTheMaximum() {
        let backoff = RetryBackoff(base: .seconds(10), maximum: .seconds(60))
        #expect((1...5).map { backoff.delay(afterAttempt: $0) } == [.seconds(10), .seconds(20), .seconds(40), .seconds(60), .seconds(60)])
    }

    @Test func zeroAndHugeAttemptsStayInRange() {
        let backoff = RetryBackoff(base: .seconds(1), maximum: .seconds(900))
        #expect(backoff.delay(afterAttempt: 0) == .seconds(1))
        #expect(backoff.delay(afterAttempt: Int.max) == .seconds(900))
    }

    @Test func secondsRoundUp() {
        let backoff = RetryBackoff(base: .milliseconds(1500), maximum: .seconds(5))
        #expect(backoff.delaySeconds(afterAttempt: 1) == 2)
        #expect(backoff.delaySeconds(afterAttempt: 2) == 3)
        #expect(backoff.delaySeconds(afterAttempt: 3) == 5)
    }
}
