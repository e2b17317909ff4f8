/// A DTSTART, DTEND, DTSTAMP or RECURRENCE-ID value after time zone resolution.
///
/// Times with a known zone are converted to UTC; all-day dates and floating
/// times (no zone at all) are kept as written and flagged.
public struct EventTime: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Equatable, Hashable, Codable {
        /// An instant, converted to UTC.
        case utc
        /// An all-day `VALUE=DATE` value.
        case date
        /// A local time with no zone (RFC 5545 §3.3.5 form #1).
        case floating
    }

    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var kind: Kind
    /// The TZID the value was written with, if any.
    public var tzid: String?

    public init(
        year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0,
        kind: Kind, tzid: String? = nil
    ) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.kind = kind
        self.tzid = tzid
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC, `YYYYMMDD` for a date, `YYYYMMDDTHHMMSS` when floating.
    public var compact: String {
        let date = Self.pad(self.year, 4) + Self.pad(self.month, 2) + Self.pad(self.day, 2)
        if self.kind == .date { return date }
        let time = "T" + Self.pad(self.hour, 2) + Self.pad(self.minute, 2) + Self.pad(self.second, 2)
        return date + time + (self.kind == .utc ? "Z" : "")
    }

    /// ISO 8601: `YYYY-MM-DDTHH:MM:SSZ`, `YYYY-MM-DD` for a date, no `Z` when floating.
    public var iso8601: String {
        let date = Self.pad(self.year, 4) + "-" + Self.pad(self.month, 2) + "-" + Self.pad(self.day, 2)
        if self.kind == .date { return date }
        let time = "T" + Self.pad(self.hour, 2) + ":" + Self.pad(self.minute, 2) + ":" + Self.pad(self.second, 2)
        return date + time + (self.kind == .utc ? "Z" : "")
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
