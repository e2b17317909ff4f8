import Digest
import FileIO
import Foundation
import TestSupport
import Testing

@Suite("SegmentedBody and its reader")
struct SegmentedBodyTests {
    /// 0, 1, 2, ... 250, 0, 1, ... (a prime period, so misplaced bytes show).
    static func pattern(_ count: Int, from start: Int = 0) -> [UInt8] {
        (start..<(start + count)).map { UInt8($0 % 251) }
    }

    static func readAll(_ body: SegmentedBody, bufferSize: Int) throws -> [UInt8] {
        let reader = SegmentedBodyReader(body)
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { return result }
            result.append(contentsOf: buffer[0..<count])
        }
    }

    @Test("memory segments read back byte for byte whatever the buffer size", arguments: [1, 3, 7, 64, 4096])
    func memorySegments(bufferSize: Int) throws {
        let parts = [Self.pattern(5), [], Self.pattern(17, from: 5), Self.pattern(1, from: 22)]
        let body = SegmentedBody(segments: parts.map { .bytes($0) })
        #expect(body.count == 23)
        #expect(try Self.readAll(body, bufferSize: bufferSize) == parts.flatMap { $0 })
    }

    @Test("file ranges and memory segments mixed read back byte for byte", arguments: [1, 5, 1000, 70_000])
    func mixedSegments(bufferSize: Int) throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let content = Self.pattern(100_000)
        try Data(content).write(to: URL(fileURLWithPath: directory.file("spool")))
        let body = SegmentedBody(segments: [
            .bytes(Array("Received: x\r\n".utf8)),
            .file(path: directory.file("spool"), offset: 10, length: 50_000),
            .bytes([42]),
            .file(path: directory.file("spool"), offset: 99_990, length: 10),
        ])
        let expected = Array("Received: x\r\n".utf8) + Array(content[10..<50_010]) + [42] + Array(content[99_990...])
        #expect(body.count == expected.count)
        #expect(body.hasFileSegments)
        #expect(try Self.readAll(body, bufferSize: bufferSize) == expected)
    }

    @Test("a file range past the end of its file fails with what was there")
    func shortFile() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        try Data(Self.pattern(30)).write(to: URL(fileURLWithPath: directory.file("short")))
        let body = SegmentedBody(segments: [.bytes([1]), .file(path: directory.file("short"), offset: 20, length: 50)])
        #expect {
            _ = try Self.readAll(body, bufferSize: 8)
        } throws: { error in
            guard let error = error as? SegmentedBodyReader.ShortFileError else { return false }
            return error.path == directory.file("short") && error.available == 10 && error.length == 50
        }
    }

    @Test("a missing file fails with the call, its path and ENOENT")
    func missingFile() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let path = directory.file("absent")
        let body = SegmentedBody(segments: [.file(path: path, offset: 0, length: 1)])
        #expect {
            _ = try Self.readAll(body, bufferSize: 8)
        } throws: { error in
            guard let error = error as? SystemCallError else { return false }
            return error.call == "open" && error.path == path && error.code == ENOENT
        }
    }

    @Test("the digests of a mixed body equal those of its concatenated bytes")
    func digestsOfMixedBody() throws {
        let directory = try TemporaryDirectory(prefix: "cis-fileio")
        let content = Self.pattern(3_000_000)
        try Data(content).write(to: URL(fileURLWithPath: directory.file("big")))
        let head = Array("header\r\n".utf8)
        let body = SegmentedBody(segments: [.bytes(head), .file(path: directory.file("big"), offset: 7, length: 2_500_000)])
        let flat = head + Array(content[7..<2_500_007])
        let digests = try body.digests()
        #expect(digests.sha256 == Digest.sha256(flat))
        #expect(digests.md5 == Digest.md5(flat))
        #expect(try SegmentedBody(bytes: flat).digests().md5 == digests.md5)
        #expect(try SegmentedBody.empty.digests().md5.hexString == "d41d8cd98f00b204e9800998ecf8427e")
    }
}
