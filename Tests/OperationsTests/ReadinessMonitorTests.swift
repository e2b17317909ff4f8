import Logging
import Testing

@testable import Operations

@Suite struct ReadinessMonitorTests {
    @Test func theReportNamesEachFailingCheck() async {
        let monitor = ReadinessMonitor(
            probes: [
                ReadinessProbe(name: "queue") { ReadinessProbe.passed("queue", "3 messages") },
                ReadinessProbe(name: "disk_free") { ReadinessProbe.failed("disk_free", "10 MiB free") },
            ],
            interval: .seconds(5), logger: Logger(label: "test"))
        #expect(!monitor.report.isReady)
        #expect(monitor.report.failing == ["started"])
        let report = await monitor.checkNow()
        #expect(report.failing == ["disk_free"])
        #expect(report.status == "not ready")
        #expect(report.checks.map(\.name) == ["queue", "disk_free"])
        #expect(monitor.report == report)
    }

    @Test func aProbeThatDoesNotAnswerFailsAtTheTimeout() async {
        let check = await ReadinessMonitor.run(
            ReadinessProbe(name: "backend") {
                // Ignores cancellation, like a call stuck in a C library.
                let end = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(50)) }
                return ReadinessProbe.passed("backend", "late")
            },
            timeout: .milliseconds(200))
        #expect(!check.ok)
        #expect(check.name == "backend")
        #expect(check.detail.contains("no answer within"))
    }

    @Test func allPassingIsReady() async {
        let monitor = ReadinessMonitor(
            probes: [ReadinessProbe(name: "a") { ReadinessProbe.passed("a", "fine") }], interval: .seconds(5),
            logger: Logger(label: "test"))
        #expect(await monitor.checkNow().isReady)
    }
}
