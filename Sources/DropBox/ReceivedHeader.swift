import Foundation
import SMTPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The trace header prepended to every message (RFC 5321 §4.4), without any DNS lookup:
///
///     Received: from <EHLO name> ([<client IP>])
///     	by <hostname> with <protocol> id <message id>
///     	for <recipient>; <RFC 5322 date>
///
/// `for` names the recipient only when there is exactly one (the grammar allows one path).
/// The protocol is `SMTP` after HELO, `ESMTP` after EHLO, with `S` when inside TLS
/// (RFC 3848), and `UTF8SMTP`/`UTF8SMTPS` for an SMTPUTF8 transaction (RFC 6531 §3.7.3).
enum ReceivedHeader {
    static func render(envelope: SMTPEnvelope, hostname: String, messageId: String, date: Date) -> String {
        var header = "Received: from \(self.clean(envelope.heloName)) (\(self.addressLiteral(envelope.clientAddress)))\r\n"
        header += "\tby \(self.clean(hostname)) with \(self.protocolName(envelope)) id \(messageId)"
        if envelope.recipients.count == 1 {
            header += "\r\n\tfor <\(self.clean(envelope.recipients[0]))>"
        }
        header += "; \(self.rfc5322Date(date))\r\n"
        return header
    }

    static func protocolName(_ envelope: SMTPEnvelope) -> String {
        guard envelope.esmtp else { return "SMTP" }
        let base = envelope.smtpUTF8 ? "UTF8SMTP" : "ESMTP"
        return envelope.tls ? base + "S" : base
    }

    /// `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3); IPv4-mapped IPv6 as IPv4.
    static func addressLiteral(_ address: String) -> String {
        var address = self.clean(address)
        if address.lowercased().hasPrefix("::ffff:"), address.dropFirst(7).contains(".") {
            address = String(address.dropFirst(7))
        }
        if let percent = address.firstIndex(of: "%") { address = String(address[..<percent]) }
        return address.contains(":") ? "[IPv6:\(address)]" : "[\(address)]"
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Wed, 25 Nov 2026 15:37:06 +0000` (RFC 5322 §3.3), in UTC.
    static func rfc5322Date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Plain arithmetic: `String(format:)` goes through Foundation's locale machinery, once per message.
        let time = "\(self.twoDigits(parts.tm_hour)):\(self.twoDigits(parts.tm_min)):\(self.twoDigits(parts.tm_sec))"
        return "\(self.days[Int(parts.tm_wday)]), \(self.twoDigits(parts.tm_mday)) \(self.months[Int(parts.tm_mon)]) \(Int(parts.tm_year) + 1900) \(time) +0000"
    }

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// Client-supplied text with anything that could break the header (controls, spaces,
    /// parentheses, angle brackets, `;`, `\`) replaced by `?`. Each of those is one byte in
    /// UTF-8 and no byte of a longer character, so the text is checked and mended byte by byte.
    static func clean(_ text: String) -> String {
        if text.isEmpty { return "unknown" }
        if text.utf8.allSatisfy(self.isSafe) { return text }
        return String(decoding: text.utf8.map { self.isSafe($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case 0...0x20, 0x7f, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ";"),
            UInt8(ascii: "\\"):
            false
        default:
            true
        }
    }
}
