import BlockingWork
import Foundation
import Invites

/// Parses each message in a child process (`<executable> parse-worker`), killed when the
/// timeout has passed.
///
/// A single libical or GMime call cannot be interrupted, and some inputs within the message
/// size limit keep one busy for minutes (libical's line reader is quadratic in the length of a
/// line; GMime's parser in the depth of multipart nesting). A thread cannot be stopped safely,
/// a process can: the deadline is real, the memory of a runaway parse is returned, and a
/// crash in a C library fails one message instead of the consumer. Each message gets its own
/// child, so parses of different messages run in parallel up to the consumer's concurrency.
public struct WorkerProcessInviteParsing: InviteParsing {
    public var executable: String
    public var limits: ParseLimits
    /// Past the timeout, the time the worker has to start and to report its own timeout.
    public static let startGrace = Duration.seconds(1)
    /// Signals by which a C library's crash ends the worker (Swift runtime traps included).
    static let crashSignals: Set<Int32> = [SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS]

    public init(executable: String, limits: ParseLimits) {
        self.executable = executable
        self.limits = limits
        // A child killed while its input is written must not kill this process.
        signal(SIGPIPE, SIG_IGN)
    }

    public func parse(_ input: InviteInput) async throws(MessageProcessingError) -> InviteParseResult {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: self.executable)
        child.arguments = ["parse-worker"]
        let toChild = Pipe()
        let fromChild = Pipe()
        child.standardInput = toChild
        child.standardOutput = fromChild
        child.standardError = FileHandle.nullDevice
        do {
            try await BlockingPool.run { try child.run() }
        } catch {
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker \(self.executable) did not start: \(error)")
        }
        let pid = child.processIdentifier
        let request = ParseWorkerProtocol.request(input, limits: self.limits)
        let deadline = self.limits.timeout + Self.startGrace
        let killed = OneAnswer<Bool>()
        let output: Data = await withTaskGroup(of: Data?.self) { group in
            group.addTask {
                await BlockingPool.run {
                    Self.write(request, to: toChild.fileHandleForWriting.fileDescriptor)
                    try? toChild.fileHandleForWriting.close()
                    let data = (try? fromChild.fileHandleForReading.readToEnd()) ?? Data()
                    child.waitUntilExit()
                    return data
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: deadline)
                } catch {
                    return nil
                }
                // The read above ends only when the child is gone; until then the pid is its own.
                if child.isRunning {
                    killed.give(true)
                    kill(pid, SIGKILL)
                }
                return nil
            }
            var output = Data()
            for await result in group {
                if let result {
                    output = result
                    group.cancelAll()
                }
            }
            return output
        }
        if killed.taken == true {
            return .failure(InviteParser.timedOut(input, limits: self.limits))
        }
        switch (child.terminationReason, child.terminationStatus) {
        case (.exit, 0):
            break
        case (.uncaughtSignal, let signal) where Self.crashSignals.contains(signal):
            // GMime or libical crashed on this message: it would crash again on every retry.
            return .failure(InviteParser.parserStopped(input, detail: "signal \(signal)"))
        case (.uncaughtSignal, let signal):
            // Stopped from outside (shutdown, the OOM killer): not the message's fault.
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker was stopped by signal \(signal)")
        case (_, let status):
            throw MessageProcessingError(.transient, stage: .parse, reason: "the parse worker exited with status \(status)")
        }
        do {
            return try ParseWorkerProtocol.decodeResponse(output)
        } catch {
            return .failure(InviteParser.parserStopped(input, detail: "unreadable answer: \(error)"))
        }
    }

    /// Writes all of `bytes`, or as much as the child reads before it exits.
    private static func write(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
