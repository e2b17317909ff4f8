import Foundation

/// S3's `sequencer`: upper-case hex that increases with each event of this process
/// (nanoseconds since the epoch, bumped by one when the clock has not moved on).
final class Sequencer: @unchecked Sendable {
    // @unchecked: `last` is only touched with `lock` held.
    private let lock = NSLock()
    private var last: UInt64 = 0

    func next(at date: Date = Date()) -> String {
        let nanoseconds = UInt64(max(0, date.timeIntervalSince1970 * 1_000_000_000))
        self.lock.lock()
        self.last = max(nanoseconds, self.last + 1)
        let value = self.last
        self.lock.unlock()
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 18 - hex.count)) + hex
    }
}
