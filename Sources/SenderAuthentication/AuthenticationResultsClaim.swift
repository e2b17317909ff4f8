/// RFC 8601 §5: an `Authentication-Results` field already in a message that names our
/// authserv-id was written by someone else (a sender posing as us) and must be ignored or
/// removed before the message's headers are trusted or passed on.
public enum AuthenticationResultsClaim {
    /// True when `fieldValue` (the text after `Authentication-Results:`, folded or not) starts
    /// with `authservId`, compared without case, comments and surrounding whitespace.
    public static func claims(fieldValue: String, authservId: String) -> Bool {
        var text = Substring(fieldValue)
        // Skip leading whitespace and comments (CFWS), bounded by the text itself.
        while let first = text.first {
            if first.isWhitespace {
                text = text.dropFirst()
            } else if first == "(" {
                var depth = 0
                var index = text.startIndex
                while index < text.endIndex {
                    if text[index] == "(" { depth += 1 }
                    if text[index] == ")" { depth -= 1 }
                    index = text.index(after: index)
                    if depth == 0 { break }
                }
                text = text[index...]
            } else {
                break
            }
        }
        let id = text.prefix { !$0.isWhitespace && $0 != ";" && $0 != "(" }
        return !id.isEmpty && id.lowercased() == authservId.lowercased()
    }
}
