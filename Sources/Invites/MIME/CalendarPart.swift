/// One piece of calendar data found in a message, decoded to UTF-8 text.
struct CalendarPart: Sendable, Equatable {
    /// The iCalendar text.
    var text: String
    /// The Content-Type `method=` parameter, lower-cased.
    var contentTypeMethod: String?
    /// Whether the part is inline (no `Content-Disposition: attachment`).
    var isInline: Bool
    /// `type/subtype`, lower-cased.
    var mediaType: String
    var filename: String?
}
