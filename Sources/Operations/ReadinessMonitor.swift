import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Runs the readiness probes every interval and keeps the last report for `/readyz`, so a
/// request never waits on a backend. A probe that does not answer within `timeout` fails;
/// until the first round has run, the report says so.
public final class ReadinessMonitor: Service, Sendable {
    private let probes: [ReadinessProbe]
    private let interval: Duration
    private let timeout: Duration
    private let logger: Logger
    private let last: NIOLockedValueBox<ReadinessReport>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(
        probes: [ReadinessProbe], interval: Duration, timeout: Duration = .seconds(OperationsConfiguration.defaultProbeTimeoutSeconds), logger: Logger
    ) {
        self.probes = probes
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
        self.last = NIOLockedValueBox(
            ReadinessReport(checks: [ReadinessCheck(name: "started", ok: false, detail: "the first readiness checks have not run yet")]))
        (self.wakeups, self.wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs the probes again now rather than at the next interval (a listener was just bound).
    public func checkSoon() {
        self.wake.yield()
    }

    public var report: ReadinessReport { self.last.withLockedValue { $0 } }

    /// Runs every probe once, now.
    @discardableResult
    public func checkNow() async -> ReadinessReport {
        var checks: [ReadinessCheck] = []
        for probe in self.probes {
            checks.append(await Self.run(probe, timeout: self.timeout))
        }
        let report = ReadinessReport(checks: checks)
        let previous = self.last.withLockedValue { previous in
            defer { previous = report }
            return previous
        }
        OperationsMetrics.ready.record(report.isReady ? 1 : 0)
        if previous.failing != report.failing, !report.failing.isEmpty {
            // While starting, listeners may not be bound yet: that is no warning.
            self.logger.log(
                level: previous.failing == ["started"] ? .info : .warning,
                "not ready", metadata: ["ops.ready.failing": "\(report.failing.joined(separator: ","))"])
        } else if previous.failing != report.failing {
            self.logger.info("ready")
        }
        return report
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in self.wakeups { await self.checkNow() }
            }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await self.checkNow()
                do {
                    try await cancelWhenGracefulShutdown { [interval = self.interval] in try await Task.sleep(for: interval) }
                } catch {
                    break
                }
            }
            self.wake.finish()
        }
    }

    /// The probe's answer, or a failure naming the timeout; the probe is not awaited past it.
    static func run(_ probe: ReadinessProbe, timeout: Duration) async -> ReadinessCheck {
        do {
            return try await Deadline.run(within: timeout) { await probe.check() }
        } catch {
            return ReadinessProbe.failed(probe.name, "\(error)")
        }
    }
}
