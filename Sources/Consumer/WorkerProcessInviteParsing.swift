import BlockingWork
import Foundation
import Invites

/// Parses each message in a `cis parse-worker` child process from a `ParseWorkerPool`,
/// killed when the timeout has passed.
///
/// A single libical or GMime call cannot be interrupted, and some inputs within the message
/// size limit keep one busy for minutes (libical's line reader is quadratic in the length of a
/// line; GMime's parser in the depth of multipart nesting). A thread cannot be stopped safely,
/// a process can: the deadline is real, the memory of a runaway parse is returned, and a
/// crash in a C library fails one message instead of the consumer. The workers live on
/// between messages (a process start per message cost more than the parse), so parses of
/// different messages run in parallel up to the pool's size.
public struct WorkerProcessInviteParsing: InviteParsing {
    public var limits: ParseLimits
    public let pool: ParseWorkerPool
    /// Past the timeout, the time the worker has to report its own timeout.
    public static let startGrace = Duration.seconds(1)
    /// Signals by which a C library's crash ends the worker (Swift runtime traps included).
    static let crashSignals: Set<Int32> = [SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS]

    public init(pool: ParseWorkerPool, limits: ParseLimits) {
        self.pool = pool
        self.limits = limits
    }

    /// A pool of `workers` workers started from `executable`, each limited to `memoryLimit` bytes.
    public init(executable: String, limits: ParseLimits, workers: Int = 1, memoryLimit: Int = ParseWorkerPool.defaultMemoryLimit) {
        self.init(pool: ParseWorkerPool(executable: executable, size: workers, memoryLimit: memoryLimit), limits: limits)
    }

    public func shutdown() async {
        await self.pool.shutdown()
    }

    public func parse(_ input: InviteInput) async throws(MessageProcessingError) -> InviteParseResult {
        guard input.message.count <= ParseWorkerProtocol.maximumMessageSize else {
            return .failure(InviteParser.parserStopped(
                input, detail: "the message of \(input.message.count) bytes is over the \(ParseWorkerProtocol.maximumMessageSize) bytes a parse worker accepts"))
        }
        let worker: ParseWorker
        do {
            worker = try await self.pool.checkOut()
        } catch {
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker \(self.pool.executable) did not start: \(error)")
        }
        let request = ParseWorkerProtocol.request(input, limits: self.limits)
        let deadline = ContinuousClock.now + self.limits.timeout + Self.startGrace
        let exchange = await BlockingPool.run {
            worker.exchange(request, deadline: deadline, maximumAnswer: ParseWorkerProtocol.maximumAnswerSize(forRequestOf: request.count))
        }
        switch exchange {
        case .answer(let answer):
            do {
                let result = try ParseWorkerProtocol.decodeResponse(answer)
                await self.pool.checkIn(worker)
                return result
            } catch {
                await self.pool.retire(worker)
                return .failure(InviteParser.parserStopped(input, detail: "unreadable answer: \(error)"))
            }
        case .timedOut:
            self.pool.releasePlace()
            return .failure(InviteParser.timedOut(input, limits: self.limits))
        case .oversizedAnswer(let length):
            self.pool.releasePlace()
            return .failure(InviteParser.parserStopped(input, detail: "an answer of \(length) bytes, over the bound"))
        case .ended:
            let termination = await BlockingPool.run { worker.reap(deadline: deadline) }
            self.pool.releasePlace()
            return try Self.result(ofEnded: termination, input: input, memoryLimit: self.pool.memoryLimit)
        }
    }

    /// How a worker that ended without an answer is read.
    private static func result(
        ofEnded termination: ParseWorker.Termination?, input: InviteInput, memoryLimit: Int
    ) throws(MessageProcessingError) -> InviteParseResult {
        switch termination {
        case .exit(ParseWorkerProtocol.memoryLimitExitStatus):
            // The message needs more memory than a parse may use: it would again on every retry.
            return .failure(InviteParser.overMemoryLimit(input, bytes: memoryLimit))
        case .signal(let signal) where Self.crashSignals.contains(signal):
            // GMime or libical crashed on this message: it would crash again on every retry.
            return .failure(InviteParser.parserStopped(input, detail: "signal \(signal)"))
        case .signal(let signal):
            // Stopped from outside (shutdown, the OOM killer): not the message's fault.
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker was stopped by signal \(signal)")
        case .exit(let status):
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker exited with status \(status)")
        case nil:
            throw MessageProcessingError(
                .transient, stage: .parse,
                reason: "the parse worker did not end within \(ParseWorker.endTimeout) of being killed")
        }
    }
}
