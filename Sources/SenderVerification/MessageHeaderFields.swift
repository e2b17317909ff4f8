/// The header section of a stored message, unfolded: what the verifier reads besides what
/// the libraries read themselves (the `From:` address for DMARC, the `ARC-Seal` tags).
/// Bounded: at most `maximumFields` fields and `maximumBytes` of header section.
struct MessageHeaderFields {
    static let maximumFields = 1000
    static let maximumBytes = 1 << 20

    /// Field names as written, values unfolded (CRLF/LF before whitespace removed).
    private(set) var fields: [(name: String, value: String)] = []

    init(message: [UInt8]) {
        // Split and cut on bytes (in a Swift String, CRLF is one Character, and a String per
        // line cost more than the rest of the verifier's own work); only names and values
        // become Strings.
        let header = message.prefix(Self.maximumBytes)
        var lineStart = header.startIndex
        while lineStart < header.endIndex {
            let newline = header[lineStart...].firstIndex(of: 0x0A) ?? header.endIndex
            let lineEnd = newline > lineStart && header[newline - 1] == 0x0D ? newline - 1 : newline
            let line = header[lineStart..<lineEnd]
            lineStart = newline + 1
            if line.isEmpty { break }
            if line.first == 0x20 || line.first == 0x09 {
                guard !self.fields.isEmpty else { continue }
                self.fields[self.fields.count - 1].value += String(decoding: line, as: UTF8.self)
                continue
            }
            guard self.fields.count < Self.maximumFields, let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self).trimmingWhitespace
            self.fields.append((name, String(decoding: line[(colon + 1)...], as: UTF8.self)))
        }
    }

    func values(named name: String) -> [String] {
        let name = name.lowercased()
        return self.fields.filter { $0.name.lowercased() == name }.map(\.value)
    }

    /// The address of the one `From:` field holding one mailbox (RFC 7489 §6.6.1); nil otherwise.
    var fromAddress: String? {
        let values = self.values(named: "From")
        guard values.count == 1 else { return nil }
        return Self.singleAddress(values[0])
    }

    /// `Name <local@domain>` or `local@domain`, comments removed; nil for a group or a list.
    static func singleAddress(_ value: String) -> String? {
        var text = ""
        var depth = 0
        var quoted = false
        var previous: Character = " "
        var commas = 0
        for character in value {
            defer { previous = character }
            if quoted {
                if character == "\"" && previous != "\\" { quoted = false }
                continue
            }
            if character == "\"" && depth == 0 { quoted = true; continue }
            if character == "(" { depth += 1; continue }
            if character == ")" && depth > 0 { depth -= 1; continue }
            if depth > 0 { continue }
            if character == "," { commas += 1 }
            text.append(character)
        }
        guard commas == 0, !text.contains(";") else { return nil }
        var address = text
        if let open = text.lastIndex(of: "<") {
            guard let close = text[open...].firstIndex(of: ">") else { return nil }
            address = String(text[text.index(after: open)..<close])
        }
        address = address.trimmingWhitespace
        guard let at = address.lastIndex(of: "@"), at != address.startIndex,
            address.index(after: at) != address.endIndex, !address.contains(where: { $0 == " " || $0 == "\t" })
        else { return nil }
        return address
    }

    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let domain = address[address.index(after: at)...].lowercased()
        return domain.isEmpty ? nil : (domain.hasSuffix(".") ? String(domain.dropLast()) : domain)
    }

    /// RFC 6376 §3.2 tag-list: `name=value; ...`, whitespace removed from values.
    static func tags(_ value: String) -> [String: String] {
        var tags: [String: String] = [:]
        for item in value.split(separator: ";") {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let name = String(item[..<equals]).trimmingWhitespace.lowercased()
            let tagValue = String(item[item.index(after: equals)...].filter { !$0.isWhitespace })
            if !name.isEmpty && tags[name] == nil { tags[name] = tagValue }
        }
        return tags
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        guard let first = self.firstIndex(where: { !$0.isWhitespace }), let last = self.lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
