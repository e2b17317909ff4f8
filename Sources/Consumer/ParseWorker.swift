import CProcessControl
import Foundation

/// One `cis parse-worker` child and the parent's ends of its standard input and output.
///
/// Every method blocks: call them on `BlockingPool`. The parent's ends are nonblocking and
/// each wait is a `poll` bounded by the parse's deadline, so a worker that stops reading or
/// answering costs the deadline, never a hang. A worker is used by one parse at a time (the
/// pool hands it out to one owner), hence `@unchecked Sendable`.
final class ParseWorker: @unchecked Sendable {
    /// How one request ended.
    enum Exchange: Sendable {
        case answer([UInt8])
        /// The deadline passed first; the worker was killed and reaped.
        case timedOut
        /// The worker closed its output (it died, or exited) before a whole answer.
        case ended
        /// The answer announced more bytes than the bound; the worker was killed and reaped.
        case oversizedAnswer(UInt64)
    }

    let process: Process
    let pid: Int32
    private let toWorker: Int32
    private let fromWorker: Int32
    /// Requests answered so far.
    private(set) var parses = 0
    /// The resident memory measured after the first answer and every
    /// `residentBytesMeasuringInterval`th after it (a read of /proc per answer was half the
    /// exchange's CPU; a slow leak is caught a few parses later, a fast one by the memory limit).
    private(set) var residentBytesAfterLastParse: Int?
    static let residentBytesMeasuringInterval = 16

    /// Starts `<executable> parse-worker --parent <this process> --memory-limit <bytes>`.
    init(executable: String, memoryLimit: Int) throws {
        let toChild = try Self.pipe()
        let fromChild = try Self.pipe()
        defer {
            // The child has its own copies; the parent keeps only its ends.
            close(toChild.read)
            close(fromChild.write)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["parse-worker", "--parent", "\(getpid())", "--memory-limit", "\(memoryLimit)"]
        process.standardInput = FileHandle(fileDescriptor: toChild.read, closeOnDealloc: false)
        process.standardOutput = FileHandle(fileDescriptor: fromChild.write, closeOnDealloc: false)
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            close(toChild.write)
            close(fromChild.read)
            throw error
        }
        self.process = process
        self.pid = process.processIdentifier
        self.toWorker = toChild.write
        self.fromWorker = fromChild.read
        for descriptor in [self.toWorker, self.fromWorker] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
    }

    struct PipeFailed: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "pipe: \(String(cString: strerror(self.errno)))" }
    }

    /// A close-on-exec pipe: a worker started at the same time must not inherit this one's ends
    /// (holding another worker's output open would hide that worker's death).
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard cprocesscontrol_pipe(&descriptors) == 0 else { throw PipeFailed(errno: errno) }
        return (descriptors[0], descriptors[1])
    }

    deinit {
        if self.process.isRunning { Foundation.kill(self.pid, SIGKILL) }
        close(self.toWorker)
        close(self.fromWorker)
    }

    /// Sends one request frame and reads the answer frame, both before `deadline`.
    func exchange(_ request: [UInt8], deadline: ContinuousClock.Instant, maximumAnswer: Int) -> Exchange {
        guard self.write(ParseWorkerProtocol.frame(request), deadline: deadline) else {
            return self.endedOrTimedOut(deadline)
        }
        var header = [UInt8](repeating: 0, count: ParseWorkerProtocol.frameHeaderSize)
        guard self.read(into: &header, deadline: deadline) else { return self.endedOrTimedOut(deadline) }
        let length = ParseWorkerProtocol.payloadLength(header)
        guard length <= UInt64(maximumAnswer) else {
            self.killAndReap()
            return .oversizedAnswer(length)
        }
        var answer = [UInt8](repeating: 0, count: Int(length))
        guard self.read(into: &answer, deadline: deadline) else { return self.endedOrTimedOut(deadline) }
        self.parses += 1
        if self.parses % Self.residentBytesMeasuringInterval == 1 { self.residentBytesAfterLastParse = self.residentBytes() }
        return .answer(answer)
    }

    /// The worker's resident memory, from `/proc/<pid>/statm` (in pages); nil if unreadable.
    func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/\(self.pid)/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// How a worker ended.
    enum Termination: Sendable, Equatable {
        case exit(Int32)
        case signal(Int32)
    }

    /// How long a killed worker may take to end before its owner stops waiting for it: it is
    /// gone by then in practice; if not (or if the end is not seen), the wait still ends.
    static let endTimeout: Duration = .seconds(3)
    /// How long an ended worker's owner waits for Foundation's `Process` to reap it.
    static let reapGrace: Duration = .milliseconds(500)

    /// Kills the worker with SIGKILL and waits, at most `endTimeout`, until it ended; how it
    /// ended, nil if that was not seen in time.
    @discardableResult
    func killAndReap() -> Termination? {
        // Until reaped the pid is this worker's (waiting does not reap it), so the signal
        // cannot hit another process.
        if self.termination(waitingUntil: .now) == nil { Foundation.kill(self.pid, SIGKILL) }
        return self.termination(waitingUntil: .now + Self.endTimeout)
    }

    /// After the worker's output ended: waits for it to exit until `deadline`, then kills it.
    func reap(deadline: ContinuousClock.Instant) -> Termination? {
        self.termination(waitingUntil: deadline) ?? self.killAndReap()
    }

    /// How the worker ended, polled until `deadline`; nil if it still runs then. Read with
    /// `waitid(WNOWAIT)`, not `Process.waitUntilExit()`, which can wait forever when Foundation
    /// misses the child's end (seen in a fault soak: a consumer's shutdown hung there until
    /// ServiceLifecycle's cancellation timeout crashed the process).
    private func termination(waitingUntil deadline: ContinuousClock.Instant) -> Termination? {
        while true {
            var status: Int32 = 0
            var signal: Int32 = 0
            switch cprocesscontrol_child_ended(self.pid, &status, &signal) {
            case 1:
                // Foundation reaps it within milliseconds, normally; a worker is reaped when
                // its owner goes on, unless Foundation missed its end (then it reaps it later).
                let reapedBy = ContinuousClock.now + Self.reapGrace
                while self.process.isRunning && ContinuousClock.now < reapedBy { usleep(1_000) }
                return signal == 0 ? .exit(status) : .signal(signal)
            case -1 where !self.process.isRunning:
                // Foundation reaped it already; it read the same status.
                let status = self.process.terminationStatus
                return self.process.terminationReason == .exit ? .exit(status) : .signal(status)
            default:
                break
            }
            if ContinuousClock.now >= deadline { return nil }
            usleep(1_000)
        }
    }

    private func endedOrTimedOut(_ deadline: ContinuousClock.Instant) -> Exchange {
        if ContinuousClock.now >= deadline {
            self.killAndReap()
            return .timedOut
        }
        return .ended
    }

    /// Writes all of `bytes`; false when the worker is gone or the deadline passed.
    private func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(self.toWorker, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    guard Self.wait(for: self.toWorker, events: Int16(POLLOUT), deadline: deadline) else { return false }
                } else {
                    return false  // EPIPE: the worker is gone.
                }
            }
            return true
        }
    }

    /// Fills `bytes`; false when the worker's output ended or the deadline passed.
    private func read(into bytes: inout [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        let fromWorker = self.fromWorker
        return bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Foundation.read(fromWorker, buffer.baseAddress! + offset, buffer.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else if count < 0 && errno == EAGAIN {
                    guard Self.wait(for: fromWorker, events: Int16(POLLIN), deadline: deadline) else { return false }
                } else {
                    return false  // End of file: the worker is gone.
                }
            }
            return true
        }
    }

    /// Waits until `descriptor` is ready (or in error); false when the deadline passed first.
    private static func wait(for descriptor: Int32, events: Int16, deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            let components = remaining.components
            let milliseconds = min(components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 + 1, Int64(Int32.max))
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(milliseconds))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }
}
