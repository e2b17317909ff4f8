import Foundation
import Testing

/// Runs one of `Tests/Support/*.py` with python3, a JSON value on its stdin, and decodes the JSON
/// it prints (botocore's answers for comparison with ours).
enum PythonScript {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ name: String, input: Any) throws -> Any {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Support/\(name)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input, options: [.sortedKeys]))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        // Not waitUntilExit (it can starve the cooperative pool): a complete JSON answer means success.
        guard let decoded = try? JSONSerialization.jsonObject(with: output) else {
            Issue.record("\(name) failed (is python3 with botocore installed?): \(String(decoding: errors, as: UTF8.self))")
            throw Failed(description: "\(name) failed")
        }
        return decoded
    }
}
