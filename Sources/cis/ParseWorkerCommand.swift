import ArgumentParser
import Consumer
import Foundation
import Invites

/// `cis parse-worker`: parses one message read from standard input and writes the result to
/// standard output (`ParseWorkerProtocol`). The consumer and `cis parse` start one per
/// message and kill it at the parse timeout; not meant to be run by hand.
struct ParseWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse-worker",
        abstract: "Parse one message from standard input for the consumer (internal).",
        shouldDisplay: false)

    func run() throws {
        // Should memory run out while a hostile message is parsed, the kernel's OOM killer takes
        // this worker (the failure is then retried, bounded by the receive count), not the intake.
        try? "1000".write(toFile: "/proc/self/oom_score_adj", atomically: false, encoding: .utf8)
        let request = try FileHandle.standardInput.readToEnd() ?? Data()
        let (input, limits) = try ParseWorkerProtocol.decodeRequest(request)
        InviteParser.initialize()
        let result = InviteParser.parse(input, limits: limits)
        try FileHandle.standardOutput.write(contentsOf: ParseWorkerProtocol.response(result))
    }
}
