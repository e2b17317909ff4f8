import AWS
import Digest
import FileIO
import Foundation
import TestSupport
import Testing

@Suite("CurlTransport against a loopback server")
struct CurlTransportTests {
    let transport = CurlTransport(configuration: .init(workerCount: 2, connectTimeout: .seconds(2), requestTimeout: .seconds(10)))

    @Test("GET returns status, headers and body; the connection is reused")
    func getAndKeepAlive() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "GET", status: 200, headers: ["X-Answer": "42"], body: "hello")])
        defer { server.stop() }
        // One worker, so both requests go through the same easy handle.
        let transport = CurlTransport(configuration: .init(workerCount: 1))
        let first = try await transport.send(HTTPRequest(method: "GET", url: server.url + "/a"))
        let second = try await transport.send(HTTPRequest(method: "GET", url: server.url + "/b"))
        #expect(first.status == 200)
        #expect(first.headers["x-answer"] == "42")
        #expect(first.bodyText == "hello")
        #expect(second.bodyText == "hello")
        let ports = server.requests.map(\.client_port)
        #expect(ports.count == 2)
        #expect(Set(ports).count == 1, "the second request should reuse the first connection: client ports \(ports)")
    }

    @Test("a PUT streams its body from a file range and memory segments")
    func putStreamsFromFile() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "PUT", status: 200)])
        defer { server.stop() }
        let directory = try TemporaryDirectory(prefix: "cis-body")
        let file = URL(fileURLWithPath: directory.file("body"))
        let content = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(content).write(to: file)
        let head = Array("Received: by test\r\n".utf8)
        let body = SegmentedBody(segments: [.bytes(head), .file(path: file.path, offset: 1000, length: 2_500_000)])
        let response = try await self.transport.send(
            HTTPRequest(method: "PUT", url: server.url + "/object", headers: HTTPHeaders([("Content-Type", "message/rfc822")]), body: body))
        #expect(response.status == 200)
        let logged = try #require(server.requests.first)
        #expect(logged.body_length == head.count + 2_500_000)
        #expect(logged.body_sha256 == Digest.sha256(head + content[1000..<2_501_000]).hexString)
        #expect(logged.headers["content-type"] == "message/rfc822")
        #expect(logged.headers["expect"] == nil, "no 100-continue round trip")
        #expect(try body.digests().sha256.hexString == logged.body_sha256)
    }

    @Test("a POST without Content-Type gets none from curl either")
    func postWithoutContentType() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "POST", status: 204)])
        defer { server.stop() }
        let response = try await self.transport.send(HTTPRequest(method: "POST", url: server.url + "/", body: SegmentedBody("a=b")))
        #expect(response.status == 204)
        let logged = try #require(server.requests.first)
        #expect(logged.headers["content-type"] == nil)
        #expect(logged.body == "a=b")
    }

    @Test("a refused connection is a retryable couldNotConnect")
    func connectionRefused() async throws {
        let port = try unusedLoopbackPort()
        await #expect {
            try await self.transport.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/"))
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .couldNotConnect && (error as? HTTPTransportError)?.isRetryable == true
        }
    }

    @Test("the total timeout stops a slow answer")
    func totalTimeout() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "GET", status: 200, delay: 30)])
        defer { server.stop() }
        let started = ContinuousClock.now
        await #expect {
            try await self.transport.send(HTTPRequest(method: "GET", url: server.url + "/slow", timeout: .milliseconds(500)))
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .timedOut
        }
        #expect(ContinuousClock.now - started < .seconds(15), "the 30 s answer must not be awaited")
    }

    @Test("cancelling the task aborts the transfer")
    func cancellation() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "GET", status: 200, delay: 30)])
        defer { server.stop() }
        let started = ContinuousClock.now
        let task = Task { try await self.transport.send(HTTPRequest(method: "GET", url: server.url + "/slow")) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect {
            try await task.value
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .cancelled
        }
        #expect(ContinuousClock.now - started < .seconds(15), "the 30 s answer must not be awaited")
    }

    @Test("only http and https URLs are allowed")
    func protocolsLimited() async throws {
        await #expect {
            try await self.transport.send(HTTPRequest(method: "GET", url: "file:///etc/passwd"))
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .invalidRequest
        }
    }

    @Test("a body file shorter than promised fails the request instead of sending short")
    func shortBodyFile() async throws {
        let server = try await ScriptedHTTPServer(plan: [.init(method: "PUT", status: 200)])
        defer { server.stop() }
        let directory = try TemporaryDirectory(prefix: "cis-short")
        let file = URL(fileURLWithPath: directory.file("body"))
        try Data(repeating: 7, count: 100).write(to: file)
        await #expect {
            try await self.transport.send(
                HTTPRequest(method: "PUT", url: server.url + "/x", body: SegmentedBody(segments: [.file(path: file.path, offset: 0, length: 1000)])))
        } throws: { error in
            (error as? HTTPTransportError)?.kind == .invalidRequest
        }
    }
}
