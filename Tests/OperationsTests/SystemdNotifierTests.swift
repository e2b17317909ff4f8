import Testing

@testable import Operations

@Suite struct SystemdNotifierTests {
    @Test func watchdogIntervalReadsMicrosecondsForThisProcess() {
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000"], processID: 7) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"], processID: 7) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"], processID: 7) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "0"], processID: 7) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: [:], processID: 7) == nil)
    }
}
