import NIOPosix

/// The one place where blocking work runs: file I/O, fsync, SQLite, libcurl transfers,
/// MIME and iCalendar parsing. Neither a NIO event loop nor Swift's cooperative pool ever
/// waits on a disk, a socket or a C library; they hand the call to this pool and await it.
public enum BlockingPool {
    /// Threads of the process-wide pool. Some jobs hold a thread for long: a libcurl long
    /// poll (SQS ReceiveMessage waits up to 20 s), the embedded queue's drain job while
    /// receivers wait, a committer's `fdatasync`/`syncfs`. 32 leaves room beside them for
    /// spool writes and parsing, so a slow fsync never starves the rest.
    public static let threadCount = 32

    /// Started on first use, never shut down: it lives as long as the process.
    public static let shared: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result. It runs even when the awaiting task
    /// is cancelled (`NIOThreadPool.runIfActive` would drop it): cleanup such as removing a
    /// spool file must happen, and a caller that wants to skip work checks cancellation first.
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.submit { continuation.resume(with: Swift.Result(catching: body)) }
        }
    }

    /// `run` for work that cannot fail.
    public static func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            self.submit { continuation.resume(returning: body()) }
        }
    }

    /// Starts `body` on the pool without waiting for it (the `Batcher`'s drain jobs, a parse
    /// the consumer may stop waiting for).
    public static func submit(_ body: @escaping @Sendable () -> Void) {
        // The pool is never shut down, so every item runs `.active`; run it even if not.
        self.shared.submit { _ in body() }
    }
}
