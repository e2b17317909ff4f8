import BlockingWork
import Invites
import Synchronization

/// How the consumer turns a stored message into requests, within its `ParseLimits`.
public protocol InviteParsing: Sendable {
    /// Throws only when the parse could not be attempted (a worker that could not start):
    /// a transient problem of this consumer, not of the message.
    func parse(_ input: InviteInput) async throws(MessageProcessingError) -> InviteParseResult

    /// Releases what parsing holds (worker processes) once no parse is running or will run.
    func shutdown() async
}

extension InviteParsing {
    public func shutdown() async {}
}

/// Parses in this process on the blocking pool. Parses of different messages run in parallel.
/// The answer comes at the latest at the timeout: a parse still running then is abandoned
/// (its result dropped, its pool thread freed when the C call returns) and the message gets
/// the timeout failure. `cis` uses `WorkerProcessInviteParsing`, which can also stop it.
public struct InProcessInviteParsing: InviteParsing {
    public var limits: ParseLimits
    /// Past the timeout, the time the parse has to report its own (more precise) timeout.
    static let grace = Duration.milliseconds(250)

    public init(limits: ParseLimits = .default) {
        self.limits = limits
    }

    public func parse(_ input: InviteInput) async -> InviteParseResult {
        let limits = self.limits
        let answer = OneAnswer<InviteParseResult>()
        BlockingPool.submit { answer.give(InviteParser.parse(input, limits: limits)) }
        return await withTaskGroup(of: InviteParseResult?.self) { group in
            group.addTask { await answer.wait() }
            group.addTask {
                try? await Task.sleep(for: limits.timeout + InProcessInviteParsing.grace)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // A parse that finished just as the timer fired still counts.
            return first ?? answer.taken ?? .failure(InviteParser.timedOut(input, limits: limits))
        }
    }
}

/// A value given once by a pool thread, awaited by at most one task that may give up waiting.
final class OneAnswer<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value?, Never>?
        var gaveUp = false
    }

    private let state = Mutex(State())

    /// The value, if it was given.
    var taken: Value? {
        self.state.withLock { $0.value }
    }

    func give(_ value: Value) {
        let waiter = self.state.withLock { state in
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    /// The value once given; `nil` when the waiting task is cancelled first.
    func wait() async -> Value? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Value?? = self.state.withLock { state in
                    if let value = state.value { return .some(value) }
                    if state.gaveUp { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let immediate {
                    continuation.resume(returning: immediate)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state in
                state.gaveUp = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
