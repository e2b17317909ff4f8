/// Finds the `Authentication-Results` fields of a received message that claim to come from our
/// own authserv-id. RFC 8601 §5: such fields were not written by us for this message (a forger
/// or an earlier hop put them there); they are never read as results, only counted and logged.
public enum ClaimedAuthenticationResults {
    /// How much of the message is searched for the header section's end.
    public static let maximumHeaderBytes = 262_144

    /// The number of `Authentication-Results` fields in the header section of `message` whose
    /// authserv-id is `authservId` (case-insensitive).
    public static func count(in message: [UInt8], authservId: String) -> Int {
        var count = 0
        for field in Self.fields(in: message) where field.name.lowercased() == "authentication-results" {
            if AuthenticationResultsClaim.claims(fieldValue: field.value, authservId: authservId) { count += 1 }
        }
        return count
    }

    /// The header fields (name, unfolded value) up to the first empty line, within
    /// `maximumHeaderBytes`; a line without a colon is skipped.
    static func fields(in message: [UInt8]) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        let end = min(message.count, Self.maximumHeaderBytes)
        var lineStart = 0
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, message[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, message[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            let line = message[lineStart..<contentEnd]
            lineStart = lineEnd + 1
            if line.isEmpty { break }
            if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                if !fields.isEmpty { fields[fields.count - 1].value += " " + String(decoding: line, as: UTF8.self) }
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingSpaces
            fields.append((name, String(decoding: line[(colon + 1)...], as: UTF8.self)))
        }
        return fields
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
