/// Calendar user addresses (RFC 5545 CAL-ADDRESS): `mailto:` URIs.
enum CalendarAddress {
    /// The address without its `mailto:` scheme (repeated schemes, as some clients write them, included).
    static func strip(_ uri: String) -> String {
        var address = Substring(uri).drop { $0 == " " }
        while address.lowercased().hasPrefix("mailto:") {
            address = address.dropFirst("mailto:".count).drop { $0 == " " }
        }
        return String(address)
    }
}
