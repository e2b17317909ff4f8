/// Parses `esmtp-param`s (RFC 5321 §4.1.2) after a MAIL path.
enum ParameterParser {
    static func mailParameters(_ text: Substring) throws(SMTPParserError) -> MailParameters {
        var parameters = MailParameters()
        var seen = Set<String>()
        for item in text.split(separator: " ") {
            let keyword: Substring
            let value: Substring?
            if let equals = item.firstIndex(of: "=") {
                keyword = item[..<equals]
                value = item[item.index(after: equals)...]
            } else {
                keyword = item
                value = nil
            }
            guard !keyword.isEmpty, keyword.utf8.allSatisfy({ ParserPrimitives.isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else {
                throw SMTPParserError(.syntax, "malformed parameter")
            }
            let name = keyword.uppercased()
            guard seen.insert(name).inserted else {
                throw SMTPParserError(.syntax, "duplicate parameter \(name)")
            }
            switch name {
            case "SIZE":
                parameters.size = try self.size(value)
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: value.uppercased()) else {
                    throw SMTPParserError(.syntax, "BODY must be 7BIT or 8BITMIME")
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else {
                    throw SMTPParserError(.syntax, "SMTPUTF8 takes no value")
                }
                parameters.smtpUTF8 = true
            default:
                throw SMTPParserError(.unsupportedParameter, "parameter \(name) is not supported")
            }
        }
        return parameters
    }

    private static func size(_ value: Substring?) throws(SMTPParserError) -> Int {
        guard let value, !value.isEmpty, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else {
            throw SMTPParserError(.syntax, "SIZE must be a number")
        }
        return Int(value) ?? Int.max
    }
}
