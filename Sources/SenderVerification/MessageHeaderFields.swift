/// The header section of a stored message, unfolded: what the verifier reads besides what
/// the libraries read themselves (the `From:` address for DMARC, the `ARC-Seal` tags).
/// Bounded: at most `maximumFields` fields and `maximumBytes` of header section.
struct MessageHeaderFields {
    static let maximumFields = 1000
    static let maximumBytes = 1 << 20

    /// Field names as written, values unfolded (CRLF/LF before whitespace removed).
    private(set) var fields: [(name: String, value: String)] = []

    init(message: [UInt8]) {
        // Split on bytes: in a Swift String, CRLF is one Character.
        var lines: [String] = []
        for line in message.prefix(Self.maximumBytes).split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = line.last == 0x0D ? line.dropLast() : line
            if line.isEmpty { break }
            lines.append(String(decoding: line, as: UTF8.self))
        }
        for line in lines {
            if line.first == " " || line.first == "\t" {
                guard !self.fields.isEmpty else { continue }
                self.fields[self.fields.count - 1].value += line
                continue
            }
            guard self.fields.count < Self.maximumFields, let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmingWhitespace
            self.fields.append((name, String(line[line.index(after: colon)...])))
        }
    }

    func values(named name: String) -> [String] {
        self.fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
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
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
