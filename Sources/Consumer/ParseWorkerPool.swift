import BlockingWork
import Foundation
import Synchronization

/// Long-lived `cis parse-worker` children, started on demand up to `size`, each serving one
/// parse at a time. A worker killed at a deadline or dead is replaced on the next demand; a
/// worker that answered `maximumParsesPerWorker` requests, or whose resident memory passed
/// `maximumResidentBytes`, is retired, so a leak in GMime or libical cannot grow without bound.
/// Within one parse a worker may use at most `memoryLimit` bytes of data (RLIMIT_DATA): a
/// message that needs more makes an allocation fail, and the worker exits with
/// `ParseWorkerProtocol.memoryLimitExitStatus` instead of growing.
public final class ParseWorkerPool: Sendable {
    public static let defaultMaximumParsesPerWorker = 5_000
    public static let defaultMaximumResidentBytes = 512 << 20
    /// 512 MiB: four workers (the default concurrency) stay within 2 GiB.
    public static let defaultMemoryLimit = 512 << 20
    /// Below 64 MiB a worker cannot start (the Swift runtime, Foundation, GMime and libical).
    public static let memoryLimitRange = (64 << 20)...(1 << 40)

    public let executable: String
    public let size: Int
    public let maximumParsesPerWorker: Int
    public let maximumResidentBytes: Int
    public let memoryLimit: Int

    /// What a parse waiting for a worker is given.
    private enum Grant: Sendable {
        case worker(ParseWorker)
        /// A free place: start a worker in it.
        case start
    }

    private struct State {
        var idle: [ParseWorker] = []
        /// Workers alive or being started, idle or not: at most `size`.
        var places = 0
        var waiters: [CheckedContinuation<Grant, Never>] = []
        var started = 0
    }

    private let state = Mutex(State())

    public init(
        executable: String, size: Int, maximumParsesPerWorker: Int = ParseWorkerPool.defaultMaximumParsesPerWorker,
        maximumResidentBytes: Int = ParseWorkerPool.defaultMaximumResidentBytes, memoryLimit: Int = ParseWorkerPool.defaultMemoryLimit
    ) {
        precondition(size >= 1 && maximumParsesPerWorker >= 1, "a pool needs a worker and a parse")
        self.executable = executable
        self.size = size
        self.maximumParsesPerWorker = maximumParsesPerWorker
        self.maximumResidentBytes = maximumResidentBytes
        self.memoryLimit = memoryLimit
        // A worker killed while its request is written must not kill this process.
        signal(SIGPIPE, SIG_IGN)
    }

    deinit {
        for worker in self.state.withLock({ $0.idle }) where worker.process.isRunning {
            kill(worker.pid, SIGKILL)
        }
    }

    /// Workers started so far, replacements included.
    public var startedWorkers: Int {
        self.state.withLock { $0.started }
    }

    /// The process ids of the idle workers.
    public var idleWorkerProcessIdentifiers: [Int32] {
        self.state.withLock { $0.idle.map(\.pid) }
    }

    /// An idle worker, a new one in a free place, or the next one given back.
    func checkOut() async throws -> ParseWorker {
        let grant: Grant = await withCheckedContinuation { continuation in
            let immediate: Grant? = self.state.withLock { state in
                if let worker = state.idle.popLast() { return .worker(worker) }
                if state.places < self.size {
                    state.places += 1
                    return .start
                }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        switch grant {
        case .worker(let worker):
            return worker
        case .start:
            do {
                let worker = try await BlockingPool.run { [executable = self.executable, memoryLimit = self.memoryLimit] in
                    try ParseWorker(executable: executable, memoryLimit: memoryLimit)
                }
                self.state.withLock { $0.started += 1 }
                return worker
            } catch {
                self.releasePlace()
                throw error
            }
        }
    }

    /// Gives back a worker that answered: idle again, or retired past its bounds.
    func checkIn(_ worker: ParseWorker) async {
        let overused = worker.parses >= self.maximumParsesPerWorker
        if overused || (worker.residentBytesAfterLastParse ?? 0) > self.maximumResidentBytes {
            await self.retire(worker)
            return
        }
        let waiter: CheckedContinuation<Grant, Never>? = self.state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(worker)
            return nil
        }
        waiter?.resume(returning: .worker(worker))
    }

    /// Kills and reaps `worker` (if still alive) and frees its place.
    func retire(_ worker: ParseWorker) async {
        _ = await BlockingPool.run { worker.killAndReap() }
        self.releasePlace()
    }

    /// Frees the place of a worker that is gone (already reaped).
    func releasePlace() {
        let waiter: CheckedContinuation<Grant, Never>? = self.state.withLock { state in
            state.places -= 1
            if state.waiters.isEmpty { return nil }
            state.places += 1
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: .start)
    }

    /// Kills and reaps the idle workers: the consumer calls it when it stopped, with no parse
    /// running. A later parse starts new ones.
    public func shutdown() async {
        let idle = self.state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for worker in idle { await self.retire(worker) }
    }
}
