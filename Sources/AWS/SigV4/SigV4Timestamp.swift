import Foundation

/// The two forms of the signing time: `20150830T123600Z` and `20150830`.
public struct SigV4Timestamp: Sendable, Equatable {
    public let amzDate: String
    public let dateStamp: String

    public init(_ date: Date) {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        let day = Self.pad(year, 4) + Self.pad(Int(parts.tm_mon) + 1, 2) + Self.pad(Int(parts.tm_mday), 2)
        self.dateStamp = day
        self.amzDate =
            day + "T" + Self.pad(Int(parts.tm_hour), 2) + Self.pad(Int(parts.tm_min), 2)
            + Self.pad(Int(parts.tm_sec), 2) + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
