/// An enhanced mail system status code, `class.subject.detail` (RFC 3463), sent after the
/// reply code when `ENHANCEDSTATUSCODES` is in effect (RFC 2034).
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    public var statusClass: Int
    public var subject: Int
    public var detail: Int

    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(self.statusClass).\(self.subject).\(self.detail)" }
}
