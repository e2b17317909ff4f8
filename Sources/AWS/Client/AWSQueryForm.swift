/// The body of an AWS query-protocol request (SNS), encoded exactly as botocore encodes it.
///
/// botocore hands the serialized parameters to Python's `urllib.parse.urlencode`, which quotes
/// with `quote_plus`: a space becomes `+`, every other UTF-8 byte outside `A-Z a-z 0-9 - _ . ~`
/// becomes `%XX` (upper-case hex), in the parameters' order. A server that verifies SigV4 on a
/// form body parses the form and encodes it again that way before hashing it (moto does, as
/// botocore's signer would), so any other encoding of the same values (`%20` for a space)
/// is refused with `SignatureDoesNotMatch`.
public enum AWSQueryForm {
    public static let contentType = "application/x-www-form-urlencoded; charset=utf-8"

    /// `name=value` pairs joined by `&`, in the given order.
    public static func encode(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&")
    }

    /// One name or value as `quote_plus(value, safe="")` writes it.
    public static func encode(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if SigV4Encoding.isUnreserved(byte) {
                out.append(byte)
            } else if byte == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
