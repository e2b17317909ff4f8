/// What the invite parser needs from a message, copied out of GMime.
struct MIMEMessage: Sendable {
    var replyTo: [MailAddress]
    var from: [MailAddress]
    /// The Return-Path header's address, when the message has one.
    var returnPath: String?
    /// `type/subtype` of the top-level entity, lower-cased.
    var mediaType: String
    /// The `report-type` parameter of a top-level multipart/report.
    var reportType: String?
    /// Every calendar part, in document order, forwarded messages included.
    var calendarParts: [CalendarPart]
    /// Whether a part is TNEF (`application/ms-tnef`, winmail.dat).
    var hasTNEF: Bool

    /// Reply-To, else From.
    var requester: MailAddress? {
        self.replyTo.first ?? self.from.first
    }

    /// A delivery status or disposition notification: it quotes a message, it asks for nothing.
    var isReport: Bool {
        self.mediaType == "multipart/report"
    }
}
