import Foundation
import Testing

/// Runs `scripted_http_server.py` on 127.0.0.1 with a plan of canned (or proxied) answers,
/// and reads back the requests it saw. Stops when `stop()` is called or after 300 seconds.
final class ScriptedHTTPServer: @unchecked Sendable {
    // @unchecked: the process and paths are set in init and only read afterwards.
    struct Rule: Encodable {
        var method: String?
        var path: String?
        var times: Int?
        var status: Int?
        var headers: [String: String]?
        var body: String?
        var delay: Double?
        var proxy: String?

        init(
            method: String? = nil, path: String? = nil, times: Int? = nil, status: Int? = nil, headers: [String: String]? = nil,
            body: String? = nil, delay: Double? = nil, proxy: String? = nil
        ) {
            self.method = method
            self.path = path
            self.times = times
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.proxy = proxy
        }
    }

    struct LoggedRequest: Decodable {
        var method: String
        var path: String
        var headers: [String: String]
        var body_length: Int
        var body_sha256: String
        var body: String
        var client_port: Int
    }

    private static let sourceFile = #filePath

    let port: Int
    private let process: Process
    private let directory: URL

    var url: String { "http://127.0.0.1:\(self.port)" }

    /// Starts the server and waits (without blocking a thread) until it listens.
    init(plan: [Rule]) async throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("cis-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let planPath = self.directory.appendingPathComponent("plan.json")
        let portPath = self.directory.appendingPathComponent("port")
        try JSONEncoder().encode(plan).write(to: planPath)
        // Tests/AWSTests/Support/ScriptedHTTPServer.swift -> Tests/Support/scripted_http_server.py
        let script = URL(fileURLWithPath: Self.sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Support/scripted_http_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", script.path, planPath.path, self.directory.appendingPathComponent("log.jsonl").path, portPath.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portPath, encoding: .utf8), let port = Int(text) {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw ServerFailed(message: "scripted_http_server.py did not start within 60 s")
    }

    deinit {
        self.stop()
    }

    /// Sends SIGTERM. Never waits: `waitUntilExit` can starve the cooperative pool on Linux.
    func stop() {
        if self.process.isRunning {
            self.process.terminate()
        }
    }

    var requests: [LoggedRequest] {
        let path = self.directory.appendingPathComponent("log.jsonl")
        guard let text = try? String(contentsOf: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(LoggedRequest.self, from: Data($0.utf8)) }
    }

    struct ServerFailed: Error {
        var message: String
    }
}
