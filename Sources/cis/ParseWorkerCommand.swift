import ArgumentParser
import CMemoryLimit
import CProcessControl
import Consumer
import FileIO
import Foundation
import Invites

/// `cis parse-worker`: parses the messages of request frames read from standard input and
/// writes an answer frame for each to standard output (`ParseWorkerProtocol`), until standard
/// input ends. The consumer and `cis parse` keep a pool of these and kill one at the parse
/// timeout; not meant to be run by hand.
struct ParseWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse-worker",
        abstract: "Parse messages from standard input for the consumer (internal).",
        shouldDisplay: false)

    @Option(help: "The process that started this worker; the worker ends with it.")
    var parent: Int32?

    @Option(help: "Bytes of data (heap and private writable memory) this worker may use; past them an allocation fails and the worker exits with status \(ParseWorkerProtocol.memoryLimitExitStatus).")
    var memoryLimit: UInt64?

    struct MemoryLimitFailed: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "setrlimit(RLIMIT_DATA): \(String(cString: strerror(self.errno)))" }
    }

    struct RequestTooLarge: Error, CustomStringConvertible {
        var length: UInt64
        var description: String { "a request of \(self.length) bytes, over \(ParseWorkerProtocol.maximumRequestSize)" }
    }

    func run() throws {
        // Killed by the kernel when the consumer dies, even by SIGKILL; a parent already gone
        // before this line is seen through the changed parent pid.
        _ = cprocesscontrol_die_with_parent()
        // A SIGHUP sent to the whole service (`systemctl kill -s HUP` without --kill-whom=main)
        // is the consumer's reload; it must not end a parse.
        signal(SIGHUP, SIG_IGN)
        if let parent, getppid() != parent { throw ExitCode.failure }
        // Should memory run out while a hostile message is parsed, the kernel's OOM killer takes
        // this worker (the failure is then retried, bounded by the receive count), not the intake.
        try? "1000".write(toFile: "/proc/self/oom_score_adj", atomically: false, encoding: .utf8)
        // A message that needs more memory than this fails an allocation here instead of growing
        // the worker until the machine runs out; the crash that follows exits with the status the
        // pool reads as "over the memory limit".
        if let memoryLimit, cmemorylimit_install(memoryLimit, ParseWorkerProtocol.memoryLimitExitStatus) != 0 {
            throw MemoryLimitFailed(errno: errno)
        }
        InviteParser.initialize()
        let requests = FileDescriptor.standardInput()
        let answers = FileDescriptor.standardOutput()
        while let request = try Self.readFrame(from: requests) {
            let (input, limits) = try ParseWorkerProtocol.decodeRequest(request)
            let answer = ParseWorkerProtocol.response(InviteParser.parse(input, limits: limits))
            // GMime or libical carried on after an allocation failed: the answer may be wrong, and
            // the heap is at its limit. Exit as a crash would.
            if cmemorylimit_allocation_failed() != 0 { _exit(ParseWorkerProtocol.memoryLimitExitStatus) }
            try answers.writeAll(ParseWorkerProtocol.frame(answer))
        }
    }

    /// The next request frame's payload; nil when standard input ended between frames.
    private static func readFrame(from input: FileDescriptor) throws -> [UInt8]? {
        guard let header = try input.read(exactly: ParseWorkerProtocol.frameHeaderSize) else { return nil }
        let length = ParseWorkerProtocol.payloadLength(header)
        guard length <= UInt64(ParseWorkerProtocol.maximumRequestSize) else { throw RequestTooLarge(length: length) }
        guard let payload = try input.read(exactly: Int(length)) else {
            throw FileDescriptor.TruncatedRead(path: input.path, expected: Int(length), received: 0)
        }
        return payload
    }
}
