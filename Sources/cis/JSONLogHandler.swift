import Foundation
import Logging
import Notifications

/// Writes each log event to standard error as one JSON object on one line:
/// `{"timestamp":…,"level":…,"label":…,"message":…,"source":…,<metadata keys>…}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(UInt8(ascii: "{"))
        Self.appendField("timestamp", ISO8601Timestamp.string(from: Date()), to: &line, first: true)
        Self.appendField("level", event.level.rawValue, to: &line)
        Self.appendField("label", self.label, to: &line)
        Self.appendField("message", event.message.description, to: &line)
        Self.appendField("source", event.source, to: &line)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            Self.appendField(key, Self.text(value), to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        // One write(2) per line, so lines from different threads never interleave.
        Self.writeToStandardError(line)
    }

    private static func appendField(_ key: String, _ value: String, to line: inout [UInt8], first: Bool = false) {
        if !first { line.append(UInt8(ascii: ",")) }
        self.appendQuoted(key, to: &line)
        line.append(UInt8(ascii: ":"))
        self.appendQuoted(value, to: &line)
    }

    private static func writeToStandardError(_ line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }

    /// A JSON string literal (RFC 8259 §7).
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        self.appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Escapes byte by byte: every byte of a multi-byte UTF-8 sequence is ≥ 0x80 and passes as is.
    private static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(self.hexDigits[Int(byte >> 4)])
                bytes.append(self.hexDigits[Int(byte & 0x0f)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
