import Foundation
import NIOConcurrencyHelpers

/// The status page's memory of the last hour: an `ActivityWindow` behind a lock, fed by the
/// intake (each `MessageSink` result) and the consumer (each outcome). When `cis serve` runs
/// both, they feed one log, so one row shows a message from its arrival to its route.
public final class ActivityLog: Sendable {
    private let window: NIOLockedValueBox<ActivityWindow>

    public init(capacity: Int) {
        self.window = NIOLockedValueBox(ActivityWindow(capacity: capacity))
    }

    public func record(_ intake: IntakeActivity) {
        self.window.withLockedValue { $0.record(intake) }
    }

    public func record(_ consumer: ConsumerActivityRecord) {
        self.window.withLockedValue { $0.record(consumer) }
    }

    public func snapshot(now: Date = Date(), limit: Int) -> ActivitySnapshot {
        self.window.withLockedValue { $0.snapshot(now: now, limit: limit) }
    }
}
