import Foundation
import SenderAuthentication
import Testing

@testable import SenderVerification

/// Many messages verified at once through one `SenderVerifier` (one libunbound context, the
/// shared libopendkim and libopendmarc state), against a loopback DNS server
/// (Tests/Support/sender_auth_dns_server.py, dnslib): every result belongs to its own message.
@Suite struct ConcurrentVerificationTests {
    @Test func concurrentMessagesGetTheirOwnVerdicts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cis-dns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/sender_auth_dns_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, directory.path]
        let stdin = Pipe()
        process.standardInput = stdin
        let errorLog = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        defer {
            try? stdin.fileHandleForWriting.close()
            process.terminate()
        }
        let portFile = directory.appendingPathComponent("port.json")
        // Key generation and imports on a busy machine: up to two minutes.
        for _ in 0..<1200 where !FileManager.default.fileExists(atPath: portFile.path) && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        guard FileManager.default.fileExists(atPath: portFile.path) else {
            let errors = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            Issue.record("sender_auth_dns_server.py did not start (python3 with dnslib, dkimpy, cryptography?): \(errors)")
            return
        }
        let portObject = try JSONSerialization.jsonObject(with: Data(contentsOf: portFile)) as? [String: Int]
        let port = try #require(portObject?["port"])
        let message = try [UInt8](Data(contentsOf: directory.appendingPathComponent("message.eml")))

        let verifier = try SenderVerifier(configuration: SenderVerifierConfiguration(
            dnsServer: DNSServerAddress("127.0.0.1:\(port)"), queryTimeout: .seconds(5)))
        let reports = await withTaskGroup(of: (Int, SenderAuthenticationReport).self) { group in
            for index in 0..<48 {
                group.addTask {
                    // Even: an address the SPF record lists; odd: one it does not; every fourth: the body changed.
                    var bytes = message
                    if index % 4 == 3 { bytes += Array("Appended.\r\n".utf8) }
                    let input = SenderAuthenticationInput(
                        message: bytes, clientAddress: index % 2 == 0 ? "192.0.2.\(10 + index)" : "203.0.113.\(index)",
                        helo: "client.example", mailFrom: "alice@example.com")
                    return (index, await verifier.verify(input))
                }
            }
            var reports: [Int: SenderAuthenticationReport] = [:]
            for await (index, report) in group { reports[index] = report }
            return reports
        }
        #expect(reports.count == 48)
        for (index, report) in reports.sorted(by: { $0.key < $1.key }) {
            let spf: SPFResult = index % 2 == 0 ? .pass : .fail
            let dkim: DKIMResult = index % 4 == 3 ? .fail : .pass
            #expect(report.spf.result == spf, "message \(index): \(report.spf)")
            #expect(report.dkim.map(\.result) == [dkim], "message \(index): \(report.dkim)")
            #expect(report.dmarc.result == (spf == .pass || dkim == .pass ? .pass : .fail), "message \(index)")
            #expect(report.senderAuthenticated == (report.dmarc.result == .pass))
            #expect(report.clientAddress == (index % 2 == 0 ? "192.0.2.\(10 + index)" : "203.0.113.\(index)"))
        }
    }
}
