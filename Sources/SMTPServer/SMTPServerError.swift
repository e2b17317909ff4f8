/// Why the listener could not start.
public struct SMTPServerError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The listen address could not be bound (in use, not local, no permission).
        case bindFailed
        /// The spool directory could not be created.
        case spoolDirectoryUnusable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { self.message }
}
