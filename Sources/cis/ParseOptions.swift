import ArgumentParser
import Consumer
import Invites

/// The bounds every message is parsed under, shared by `cis serve`, `cis consume` and
/// `cis parse`. Every option also reads an environment variable when the flag is absent.
struct ParseOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Wall-clock seconds for parsing one message, \(ParseLimits.timeoutRange.lowerBound.optionText) to \(ParseLimits.timeoutRange.upperBound.optionText); a message still parsing then goes to the failure route. Env: CIS_PARSE_TIMEOUT. Default: \(ParseLimits.default.timeoutSeconds.optionText).",
        valueName: "seconds"))
    var parseTimeout: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "MIME parts one message may have. Env: CIS_MAX_MIME_PARTS. Default: \(ParseLimits.defaultMaximumMIMEParts).", valueName: "n"))
    var maxMimeParts: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Levels of multiparts and forwarded messages inside one another. Env: CIS_MAX_MIME_DEPTH. Default: \(ParseLimits.defaultMaximumMIMEDepth).",
        valueName: "n"))
    var maxMimeDepth: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "iCalendar components (events, time zones, alarms, ...) per calendar. Env: CIS_MAX_CALENDAR_COMPONENTS. Default: \(ParseLimits.defaultMaximumCalendarComponents).",
        valueName: "n"))
    var maxCalendarComponents: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Events (VEVENT) per calendar, changed instances included. Env: CIS_MAX_CALENDAR_EVENTS. Default: \(ParseLimits.defaultMaximumEvents).",
        valueName: "n"))
    var maxCalendarEvents: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Attendees per event. Env: CIS_MAX_ATTENDEES. Default: \(ParseLimits.defaultMaximumAttendees).", valueName: "n"))
    var maxAttendees: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Changed instances (RECURRENCE-ID) per event. Env: CIS_MAX_OVERRIDES. Default: \(ParseLimits.defaultMaximumOverrides).",
        valueName: "n"))
    var maxOverrides: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Time zone offset changes the VTIMEZONE rules of one calendar may expand to; rules finer than monthly are always refused. Env: CIS_MAX_TIMEZONE_TRANSITIONS. Default: \(ParseLimits.defaultMaximumTimeZoneTransitions).",
        valueName: "n"))
    var maxTimezoneTransitions: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "MiB of memory (heap and private writable mappings) one parse worker may use, \(ParseOptions.memoryLimitRange.text); a message that needs more goes to the failure route and the worker is replaced. Env: CIS_PARSE_MEMORY_LIMIT. Default: \(ParseWorkerPool.defaultMemoryLimit >> 20).",
        valueName: "MiB"))
    var parseMemoryLimit: String?

    static let memoryLimitRange = (ParseWorkerPool.memoryLimitRange.lowerBound >> 20)...(ParseWorkerPool.memoryLimitRange.upperBound >> 20)

    /// The parse workers' memory limit in bytes.
    func memoryLimit(_ settings: Settings) throws(ConfigurationError) -> Int {
        let mebibytes = try settings.value(
            self.parseMemoryLimit, flag: "--parse-memory-limit", variable: "CIS_PARSE_MEMORY_LIMIT",
            default: ParseWorkerPool.defaultMemoryLimit >> 20, parse: Parse.integer(in: Self.memoryLimitRange))
        return mebibytes << 20
    }

    func limits(_ settings: Settings) throws(ConfigurationError) -> ParseLimits {
        let count = Parse.integer(in: ParseLimits.countRange)
        let timeout = try settings.value(
            self.parseTimeout, flag: "--parse-timeout", variable: "CIS_PARSE_TIMEOUT",
            default: ParseLimits.default.timeoutSeconds, parse: Parse.seconds(in: ParseLimits.timeoutRange))
        return ParseLimits(
            timeout: .milliseconds(Int((timeout * 1000).rounded())),
            maximumMIMEParts: try settings.value(
                self.maxMimeParts, flag: "--max-mime-parts", variable: "CIS_MAX_MIME_PARTS",
                default: ParseLimits.defaultMaximumMIMEParts, parse: count),
            maximumMIMEDepth: try settings.value(
                self.maxMimeDepth, flag: "--max-mime-depth", variable: "CIS_MAX_MIME_DEPTH",
                default: ParseLimits.defaultMaximumMIMEDepth, parse: count),
            maximumCalendarComponents: try settings.value(
                self.maxCalendarComponents, flag: "--max-calendar-components", variable: "CIS_MAX_CALENDAR_COMPONENTS",
                default: ParseLimits.defaultMaximumCalendarComponents, parse: count),
            maximumEvents: try settings.value(
                self.maxCalendarEvents, flag: "--max-calendar-events", variable: "CIS_MAX_CALENDAR_EVENTS",
                default: ParseLimits.defaultMaximumEvents, parse: count),
            maximumAttendees: try settings.value(
                self.maxAttendees, flag: "--max-attendees", variable: "CIS_MAX_ATTENDEES",
                default: ParseLimits.defaultMaximumAttendees, parse: count),
            maximumOverrides: try settings.value(
                self.maxOverrides, flag: "--max-overrides", variable: "CIS_MAX_OVERRIDES",
                default: ParseLimits.defaultMaximumOverrides, parse: count),
            maximumTimeZoneTransitions: try settings.value(
                self.maxTimezoneTransitions, flag: "--max-timezone-transitions", variable: "CIS_MAX_TIMEZONE_TRANSITIONS",
                default: ParseLimits.defaultMaximumTimeZoneTransitions, parse: count))
    }
}

extension Parse {
    /// Seconds, whole or decimal, within `range`.
    static func seconds(in range: ClosedRange<Double>) -> (String) throws(SettingProblem) -> Double {
        { (text: String) throws(SettingProblem) -> Double in
            guard let seconds = Double(text), seconds.isFinite, range.contains(seconds) else {
                throw SettingProblem("is not a number of seconds from \(range.lowerBound.optionText) to \(range.upperBound.optionText)")
            }
            return seconds
        }
    }
}

extension Double {
    /// `2` for 2.0, `0.5` for 0.5: how help texts and the README write seconds.
    var optionText: String {
        self == self.rounded() ? String(Int(self)) : String(self)
    }
}
