import Foundation

extension BlockingPool {
    /// Pool jobs that help one `forEachConcurrently` call, beside its caller.
    static let maximumHelpers = 7

    /// Runs `body` for every index in `0..<count`, on the calling thread and on pool threads
    /// at once, and returns each index's error (nil: it succeeded).
    ///
    /// Safe to call from a pool job: the caller takes indices itself until none are left,
    /// so it never waits for a helper job that has not started.
    public static func forEachConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [(any Error)?] {
        guard count > 0 else { return [] }
        let work = SharedIndices(count: count, body: body)
        for _ in 1..<min(count, Self.maximumHelpers + 1) {
            self.submit { work.drain() }
        }
        work.drain()
        return work.waitForAll()
    }

    /// Indices handed out to whichever thread asks first, and each one's error.
    private final class SharedIndices: @unchecked Sendable {
        // @unchecked: `next`, `finished` and `errors` are only touched with `condition` locked.
        private let condition = NSCondition()
        private let count: Int
        private let body: @Sendable (Int) throws -> Void
        private var next = 0
        private var finished = 0
        private var errors: [(any Error)?]

        init(count: Int, body: @escaping @Sendable (Int) throws -> Void) {
            self.count = count
            self.body = body
            self.errors = Array(repeating: nil, count: count)
        }

        func drain() {
            while let index = self.take() {
                var failure: (any Error)?
                do { try self.body(index) } catch { failure = error }
                self.condition.lock()
                self.errors[index] = failure
                self.finished += 1
                if self.finished == self.count { self.condition.broadcast() }
                self.condition.unlock()
            }
        }

        func waitForAll() -> [(any Error)?] {
            self.condition.lock()
            defer { self.condition.unlock() }
            while self.finished < self.count { self.condition.wait() }
            return self.errors
        }

        private func take() -> Int? {
            self.condition.lock()
            defer { self.condition.unlock() }
            guard self.next < self.count else { return nil }
            self.next += 1
            return self.next - 1
        }
    }
}
