import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// systemd `Type=notify`: `READY=1` once every listener is bound, then `WATCHDOG=1` at half
/// of `WATCHDOG_USEC` until shutdown, and `STOPPING=1` when graceful shutdown starts.
public final class SystemdWatchdog: Service, Sendable {
    private let notifier: SystemdNotifier
    private let watchdogInterval: Duration?
    private let logger: Logger
    /// Listeners not bound yet; READY=1 goes out when it reaches zero.
    private let pendingListeners: NIOLockedValueBox<Int>

    public init(notifier: SystemdNotifier, watchdogInterval: Duration?, listeners: Int, logger: Logger) {
        self.notifier = notifier
        self.watchdogInterval = watchdogInterval
        self.logger = logger
        self.pendingListeners = NIOLockedValueBox(listeners)
    }

    /// One listener is bound.
    public func listenerBound() {
        let remaining = self.pendingListeners.withLockedValue { count in
            count -= 1
            return count
        }
        if remaining == 0 { self.send("READY=1\nSTATUS=accepting") }
    }

    public func run() async throws {
        if self.pendingListeners.withLockedValue({ $0 }) <= 0 { self.send("READY=1\nSTATUS=accepting") }
        guard let interval = self.watchdogInterval else {
            await withGracefulShutdownHandler {
                try? await gracefulShutdown()
            } onGracefulShutdown: {
                self.send("STOPPING=1")
            }
            return
        }
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                self.send("WATCHDOG=1")
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval / 2) }
                } catch {
                    return
                }
            }
        } onGracefulShutdown: {
            self.send("STOPPING=1")
        }
    }

    private func send(_ state: String) {
        do {
            try self.notifier.notify(state)
        } catch {
            self.logger.warning("systemd notification failed", metadata: ["ops.systemd.state": "\(state)", "error": "\(error)"])
        }
    }
}
