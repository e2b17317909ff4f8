/// One RFC 5322 mailbox: a display name (encoded words decoded) and an addr-spec.
public struct MailAddress: Sendable, Equatable {
    public var name: String?
    /// The addr-spec, `local@domain`; a quoted local part keeps its quotes.
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }

    /// Parses an address list (`From`, `Reply-To`, an envelope sender, ...) into its mailboxes,
    /// groups flattened; empty when nothing in `text` is a mailbox.
    public static func parseList(_ text: String) -> [MailAddress] {
        GMime.parseAddressList(text)
    }
}
