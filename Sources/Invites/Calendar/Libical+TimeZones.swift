internal import CLibical

/// VTIMEZONE rules checked before libical expands them.
///
/// To convert a time in a VTIMEZONE, libical expands every STANDARD and DAYLIGHT rule of the
/// zone from its DTSTART to five years past the later of this year and the time's year
/// (at most to 2582), appending every change, under a process-wide mutex. A rule with
/// `FREQ=SECONDLY` from 1970 is then billions of changes. So before any time is converted,
/// every rule finer than monthly is refused and the changes of the others are counted, up to
/// the year libical would expand to, against `ParseLimits.maximumTimeZoneTransitions`. A zone
/// seen before (the same text) is counted once per year and converts with its cached,
/// already expanded copy.
extension Libical {
    /// libical's last year of zone expansion (`ICALTIMEZONE_MAX_YEAR` in libical 3.0).
    static let lastExpandedYear = 2582
    /// Years libical expands past the time it converts.
    static let extraExpandedYears = 5

    /// Checks every VTIMEZONE of the text and returns, by TZID, the process-wide cached zone
    /// (`ParsedTimeZoneCache`) to convert its times with (keyed as libical names the zone); a zone the cache cannot hold is left
    /// out, and its times use the calendar's own zone.
    static func checkTimeZones(in root: OpaquePointer, budget: ParseBudget) throws(LimitExceeded) -> [String: OpaquePointer] {
        let zones = Self.timeZones(in: root)
        guard !zones.isEmpty else { return [:] }
        let endYear = min(max(Self.latestYear(in: root), Int(icaltime_today().year)) + Self.extraExpandedYears, Self.lastExpandedYear)
        let limit = budget.limits.maximumTimeZoneTransitions
        var transitions = 0
        var cached: [String: OpaquePointer] = [:]
        for zone in zones {
            let tzid = Self.properties(of: zone).first { icalproperty_isa($0) == ICAL_TZID_PROPERTY }
                .flatMap(Self.valueString) ?? "(no TZID)"
            let text = Self.owned(icalcomponent_as_ical_string_r(zone)) ?? ""
            let entry = ParsedTimeZoneCache.shared.zone(text: text, component: zone)
            var count: Int
            if let known = entry?.transitions[endYear] {
                count = known
            } else {
                count = 0
                for observance in Self.children(of: zone, kind: ICAL_ANY_COMPONENT) {
                    let kind = icalcomponent_isa(observance)
                    guard kind == ICAL_XSTANDARD_COMPONENT || kind == ICAL_XDAYLIGHT_COMPONENT else { continue }
                    count += try Self.countTransitions(
                        of: observance, tzid: tzid, through: endYear, budget: budget, allowed: limit - transitions - count)
                }
                if entry != nil { ParsedTimeZoneCache.shared.remember(transitions: count, through: endYear, text: text) }
            }
            transitions += count
            guard transitions <= limit else {
                throw LimitExceeded(reason: FailureReason.timeZoneTooManyTransitions(tzid: tzid, limit: limit))
            }
            if let entry, let name = icaltimezone_get_tzid(entry.pointer).map({ String(cString: $0) }), cached[name] == nil {
                cached[name] = entry.pointer
            }
        }
        return cached
    }

    /// The changes one STANDARD or DAYLIGHT brings up to `endYear`: its DTSTART, its RDATEs
    /// and its RRULE's occurrences; throws once more than `allowed`.
    private static func countTransitions(
        of observance: OpaquePointer, tzid: String, through endYear: Int, budget: ParseBudget, allowed: Int
    ) throws(LimitExceeded) -> Int {
        let tooMany = LimitExceeded(
            reason: FailureReason.timeZoneTooManyTransitions(tzid: tzid, limit: budget.limits.maximumTimeZoneTransitions))
        var count = 1
        var start = icaltime_null_time()
        var rules: [icalrecurrencetype] = []
        for property in Self.properties(of: observance) {
            switch icalproperty_isa(property) {
            case ICAL_DTSTART_PROPERTY: start = icalproperty_get_dtstart(property)
            case ICAL_RDATE_PROPERTY: count += 1
            case ICAL_RRULE_PROPERTY: rules.append(icalproperty_get_rrule(property))
            default: break
            }
        }
        guard count <= allowed else { throw tooMany }
        for rule in rules {
            switch rule.freq {
            case ICAL_YEARLY_RECURRENCE, ICAL_MONTHLY_RECURRENCE: break
            case ICAL_NO_RECURRENCE: continue
            default:
                let frequency = icalrecur_freq_to_string(rule.freq).map { String(cString: $0) } ?? "\(rule.freq.rawValue)"
                throw LimitExceeded(reason: FailureReason.timeZoneTooFrequent(tzid: tzid, frequency: frequency))
            }
            guard icaltime_is_null_time(start) == 0, let iterator = icalrecur_iterator_new(rule, start) else { continue }
            defer { icalrecur_iterator_free(iterator) }
            while true {
                let occurrence = icalrecur_iterator_next(iterator)
                if icaltime_is_null_time(occurrence) != 0 || Int(occurrence.year) > endYear { break }
                count += 1
                guard count <= allowed else { throw tooMany }
                if count % 256 == 0 { try budget.checkDeadline("expanding the rules of time zone \(tzid)") }
            }
        }
        return count
    }

    /// Every VTIMEZONE of the text.
    private static func timeZones(in root: OpaquePointer) -> [OpaquePointer] {
        switch icalcomponent_isa(root) {
        case ICAL_VTIMEZONE_COMPONENT: return [root]
        case ICAL_VCALENDAR_COMPONENT: return Self.children(of: root, kind: ICAL_VTIMEZONE_COMPONENT)
        case ICAL_XROOT_COMPONENT:
            return Self.children(of: root, kind: ICAL_VCALENDAR_COMPONENT).flatMap { Self.children(of: $0, kind: ICAL_VTIMEZONE_COMPONENT) }
        default: return []
        }
    }

    /// The latest year of any date-time in the events (the year libical expands zones for).
    private static func latestYear(in root: OpaquePointer) -> Int {
        var latest = 0
        var stack = [root]
        while let component = stack.popLast() {
            let kind = icalcomponent_isa(component)
            if kind == ICAL_VTIMEZONE_COMPONENT { continue }
            for property in Self.properties(of: component) {
                guard let value = icalproperty_get_value(property) else { continue }
                let valueKind = icalvalue_isa(value)
                if valueKind == ICAL_DATETIME_VALUE || valueKind == ICAL_DATE_VALUE {
                    latest = max(latest, Int(icalvalue_get_datetime(value).year))
                }
            }
            stack += Self.children(of: component, kind: ICAL_ANY_COMPONENT)
        }
        return latest
    }
}
