import Backends
import DropBox
import FileIO
import Foundation
import Logging
import SMTPCore

// Measures DropBox throughput over the embedded backends with group commit on and off,
// in the same run, on the same disk: N concurrent senders deliver M messages of S bytes.
// Usage: cis-bench [--messages 2000] [--concurrency 16] [--size 4096] [--rounds 3] [--directory PATH]
//                  [--component dropbox|store|queue] [--modes both|group|naive]

struct Options {
    var messages = 2000
    var concurrency = 16
    var size = 4096
    var rounds = 3
    /// What to measure: `dropbox` (store + queue, the real path), `store` or `queue` alone.
    var component = "dropbox"
    /// Which peers to run: `both`, or `group` / `naive` alone (e.g. to count syscalls with strace).
    var modes = "both"
    var directory = NSTemporaryDirectory() + "cis-bench-\(ProcessInfo.processInfo.processIdentifier)"

    init(arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("missing value after \(flag)") }
            switch flag {
            case "--messages": self.messages = try Self.positive(flag, value)
            case "--concurrency": self.concurrency = try Self.positive(flag, value)
            case "--size": self.size = try Self.positive(flag, value)
            case "--rounds": self.rounds = try Self.positive(flag, value)
            case "--directory": self.directory = value
            case "--modes":
                guard ["both", "group", "naive"].contains(value) else { throw BenchError("--modes is both, group or naive") }
                self.modes = value
            case "--component":
                guard ["dropbox", "store", "queue"].contains(value) else { throw BenchError("--component is dropbox, store or queue") }
                self.component = value
            default: throw BenchError("unknown option \(flag)")
            }
        }
    }

    static func positive(_ flag: String, _ value: String) throws -> Int {
        guard let number = Int(value), number > 0 else { throw BenchError("\(flag) needs a positive integer, not \(value)") }
        return number
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A calendar invitation padded to about `size` bytes.
func sampleMessage(size: Int) -> [UInt8] {
    var text = """
        From: organizer@example.com\r
        To: create@localhost\r
        Subject: Planning meeting\r
        MIME-Version: 1.0\r
        Content-Type: text/calendar; method=REQUEST; charset=UTF-8\r
        \r
        BEGIN:VCALENDAR\r
        VERSION:2.0\r
        PRODID:-//cis//bench//EN\r
        METHOD:REQUEST\r
        BEGIN:VEVENT\r
        UID:bench@example.com\r
        DTSTART:20261201T100000Z\r
        DTEND:20261201T110000Z\r
        SUMMARY:Planning meeting\r

        """
    while text.utf8.count < size - 40 { text += "DESCRIPTION:padding line for a realistic message size\r\n" }
    text += "END:VEVENT\r\nEND:VCALENDAR\r\n"
    return Array(text.utf8)
}

/// Delivers `options.messages` messages with `options.concurrency` senders; returns messages per second.
func measure(groupCommit: Bool, round: Int, options: Options, message: [UInt8]) async throws -> Double {
    let dataDirectory = "\(options.directory)/\(groupCommit ? "group" : "naive")-\(round)"
    // Kept until the whole run ends: on ext4, creating files soon after deleting many in the
    // same block group scans past every recently deleted inode, which would make each round
    // pay for the one before it.
    try? FileManager.default.removeItem(atPath: dataDirectory)
    let store = try FileSystemObjectStore(directory: "\(dataDirectory)/objects", groupCommit: groupCommit)
    let queue = try SQLiteMessageQueue(path: "\(dataDirectory)/queue.sqlite", groupCommit: groupCommit)
    let dropBox = DropBox(
        objectStore: store, queue: queue, configuration: DropBoxConfiguration(hostname: "bench.localhost"),
        logger: Logger(label: "cis-bench", factory: { _ in SwiftLogNoOpLogHandler() }))
    let envelope = SMTPEnvelope(
        heloName: "client.localhost", esmtp: true, mailFrom: "organizer@example.com", recipients: ["create@localhost"],
        clientAddress: "127.0.0.1", clientPort: 40000, tls: false)
    let deliverOne: @Sendable (Int) async throws -> Void
    switch options.component {
    case "store":
        deliverOne = { index in
            _ = try await store.put(key: "inbound/\(index)", body: SegmentedBody(bytes: message), metadata: ["mail-from": "organizer@example.com"])
        }
    case "queue":
        let body = String(repeating: "n", count: 1200)
        deliverOne = { _ in _ = try await queue.send(body: body) }
    default:
        deliverOne = { _ in
            _ = try await dropBox.deliver(ReceivedMessage(envelope: envelope, content: .memory(message), receivedAt: Date()))
        }
    }
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for sender in 0..<options.concurrency {
            let share = options.messages / options.concurrency + (sender < options.messages % options.concurrency ? 1 : 0)
            group.addTask {
                for index in 0..<share { try await deliverOne(sender * 1_000_000 + index) }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    let queued = options.component == "store" ? options.messages : try await queue.approximateCount
    guard queued == options.messages else { throw BenchError("expected \(options.messages) notifications, found \(queued)") }
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(options.messages) / seconds
}

let options: Options
do {
    options = try Options(arguments: CommandLine.arguments)
} catch {
    FileHandle.standardError.write(Data("cis-bench: \(error)\n".utf8))
    exit(2)
}
let message = sampleMessage(size: options.size)
print(
    "cis-bench: \(options.messages) messages of \(message.count) bytes, \(options.concurrency) concurrent senders, "
        + "\(options.rounds) rounds, component \(options.component), data in \(options.directory)")
var results: [Bool: [Double]] = [true: [], false: []]
let peers: [Bool] =
    switch options.modes {
    case "group": [true]
    case "naive": [false]
    default: [false, true]
    }
for round in 1...options.rounds {
    // Alternate the order so that neither mode always runs on a warmer (or busier) disk.
    for groupCommit in round % 2 == 1 ? peers : peers.reversed() {
        let rate = try await measure(groupCommit: groupCommit, round: round, options: options, message: message)
        results[groupCommit]!.append(rate)
        print("round \(round) \(groupCommit ? "group commit   " : "fsync/message  "): \(String(format: "%8.1f", rate)) messages/s")
    }
}
try? FileManager.default.removeItem(atPath: options.directory)

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
if let naive = results[false].flatMap({ $0.isEmpty ? nil : median($0) }) {
    print("median fsync per message: \(String(format: "%.1f", naive)) messages/s")
}
if let group = results[true].flatMap({ $0.isEmpty ? nil : median($0) }) {
    print("median group commit:      \(String(format: "%.1f", group)) messages/s")
}
if !results[false]!.isEmpty && !results[true]!.isEmpty {
    print("ratio group/naive:        \(String(format: "%.2f", median(results[true]!) / median(results[false]!)))x")
}
