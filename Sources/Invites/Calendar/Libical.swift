internal import CLibical
import Synchronization

/// The only file that talks to libical: parses iCalendar text and copies out Swift values
/// (`Libical+TimeZones.swift` checks VTIMEZONE rules before libical expands them).
///
/// libical 3.0 is built with pthreads: its error number and string ring buffer are per thread,
/// and its built-in time zones and zone expansion have their own mutexes. What a parse owns
/// (the component tree, its VTIMEZONEs) is used by one thread only, so parses run in parallel;
/// only time zone resolution and conversion, which may load and expand the process-wide
/// system zones, hold `Libical.zoneLock`, and that section is short because every VTIMEZONE
/// of the text was bounded first.
enum Libical {
    private static let zoneLock = Mutex(())

    private static let initialized: Void = {
        // Bad input must never abort the process.
        icalerror_set_errors_are_fatal(0)
        // Created lazily without a lock inside libical: create it once, here.
        _ = icaltimezone_get_utc_timezone()
    }()

    /// Configures libical once per process; safe to call from any thread, any number of times.
    static func initialize() {
        Self.initialized
    }

    /// Parses one iCalendar object (or several concatenated VCALENDARs, merged), within `budget`.
    static func parse(_ text: String, budget: ParseBudget) throws(CalendarReadError) -> ParsedCalendar {
        Self.initialize()
        icalerror_clear_errno()
        let normalized = ContentLineFolding.folded(LineEnds.normalized(Array(text.utf8))) + [0]
        let parsed = normalized.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { icalparser_parse_string($0.baseAddress) }
        }
        guard let root = parsed else {
            let code = icalerrno_return().pointee
            let detail = code == ICAL_NO_ERROR ? "no iCalendar object found" : String(cString: icalerror_strerror(code))
            throw .unparseable(CalendarParseError(message: detail))
        }
        let component = OwnedComponent(owning: root)
        do {
            return try component.withUnsafePointer { root throws(LimitExceeded) in
                try budget.checkDeadline("reading the calendar")
                let zones = try Self.checkTimeZones(in: root, budget: budget)
                return try Self.calendar(from: root, zones: zones, budget: budget)
            }
        } catch {
            throw .overLimit(error)
        }
    }

    // MARK: - Components

    /// `zones`: the cached copies of the calendar's VTIMEZONEs, by TZID.
    private static func calendar(
        from root: OpaquePointer, zones: [String: OpaquePointer], budget: ParseBudget
    ) throws(LimitExceeded) -> ParsedCalendar {
        var calendar = ParsedCalendar(method: nil, prodid: nil, events: [], otherComponents: [], errors: [])
        Self.collectErrors(in: root, into: &calendar.errors)
        let vcalendars: [OpaquePointer]
        switch icalcomponent_isa(root) {
        case ICAL_VCALENDAR_COMPONENT: vcalendars = [root]
        case ICAL_XROOT_COMPONENT: vcalendars = Self.children(of: root, kind: ICAL_VCALENDAR_COMPONENT)
        case ICAL_VEVENT_COMPONENT:
            calendar.events = [Self.event(from: root, zones: zones)]
            return calendar
        default: vcalendars = []
        }
        for vcalendar in vcalendars {
            for property in Self.properties(of: vcalendar) {
                switch icalproperty_isa(property) {
                case ICAL_METHOD_PROPERTY where calendar.method == nil:
                    calendar.method = Self.valueString(property)?.lowercased()
                case ICAL_PRODID_PROPERTY where calendar.prodid == nil:
                    calendar.prodid = Self.text(property)
                default: break
                }
            }
            for child in Self.children(of: vcalendar, kind: ICAL_ANY_COMPONENT) {
                let kind = icalcomponent_isa(child)
                if kind == ICAL_VEVENT_COMPONENT {
                    try budget.checkDeadline("reading event \(calendar.events.count + 1) of the calendar")
                    calendar.events.append(Self.event(from: child, zones: zones))
                } else if kind != ICAL_VTIMEZONE_COMPONENT, let name = icalcomponent_kind_to_string(kind) {
                    calendar.otherComponents.append(String(cString: name))
                }
            }
        }
        return calendar
    }

    private static func event(from vevent: OpaquePointer, zones: [String: OpaquePointer]) -> ParsedEvent {
        var event = ParsedEvent()
        var duration: icaldurationtype?
        var startProperty: OpaquePointer?
        var endProperty: OpaquePointer?
        var isOutlookAllDay = false
        for property in Self.properties(of: vevent) {
            switch icalproperty_isa(property) {
            case ICAL_UID_PROPERTY: event.uid = Self.text(property)
            case ICAL_SEQUENCE_PROPERTY: event.sequence = Int(icalproperty_get_sequence(property))
            case ICAL_DTSTAMP_PROPERTY: event.dtstamp = Self.time(property, in: vevent, zones: zones)
            case ICAL_CREATED_PROPERTY: event.created = Self.time(property, in: vevent, zones: zones)
            case ICAL_LASTMODIFIED_PROPERTY: event.lastModified = Self.time(property, in: vevent, zones: zones)
            case ICAL_DTSTART_PROPERTY:
                startProperty = property
                event.start = Self.time(property, in: vevent, zones: zones)
            case ICAL_DTEND_PROPERTY:
                endProperty = property
                event.end = Self.time(property, in: vevent, zones: zones)
            case ICAL_DURATION_PROPERTY: duration = icalproperty_get_duration(property)
            case ICAL_RECURRENCEID_PROPERTY: event.recurrenceId = Self.time(property, in: vevent, zones: zones)
            case ICAL_SUMMARY_PROPERTY: event.summary = Self.text(property)
            case ICAL_DESCRIPTION_PROPERTY: event.description = Self.text(property)
            case ICAL_LOCATION_PROPERTY: event.location = Self.text(property)
            case ICAL_STATUS_PROPERTY: event.status = Self.valueString(property)?.uppercased()
            case ICAL_RRULE_PROPERTY: event.rrule = Self.valueString(property)
            case ICAL_ORGANIZER_PROPERTY: event.organizer = Self.organizer(property)
            case ICAL_ATTENDEE_PROPERTY:
                if let attendee = Self.attendee(property) { event.attendees.append(attendee) }
            case ICAL_X_PROPERTY:
                if let name = icalproperty_get_x_name(property), String(cString: name).uppercased() == "X-MICROSOFT-CDO-ALLDAYEVENT" {
                    isOutlookAllDay = Self.valueString(property)?.uppercased() == "TRUE"
                }
            default: break
            }
        }
        if event.end == nil, let duration, let startProperty, icaldurationtype_is_bad_duration(duration) == 0 {
            event.end = Self.time(startProperty, in: vevent, zones: zones, adding: duration)
        }
        if isOutlookAllDay, let startProperty {
            Self.makeAllDay(&event, start: startProperty, end: endProperty, duration: duration)
        }
        return event
    }

    /// Outlook writes an all-day event as local midnight to midnight DATE-TIMEs with
    /// `X-MICROSOFT-CDO-ALLDAYEVENT:TRUE`: report it as the dates it means, as a VALUE=DATE
    /// event would be. Times that are not midnight are left as they are.
    private static func makeAllDay(_ event: inout ParsedEvent, start: OpaquePointer, end: OpaquePointer?, duration: icaldurationtype?) {
        guard let startDate = Self.midnightDate(start) else { return }
        var endDate: icaltimetype?
        if let end {
            guard let date = Self.midnightDate(end) else { return }
            endDate = date
        } else if let duration, icaldurationtype_is_bad_duration(duration) == 0 {
            guard duration.hours == 0, duration.minutes == 0, duration.seconds == 0 else { return }
            endDate = icaltime_add(startDate, duration)
        }
        event.start = Self.allDay(startDate)
        event.end = endDate.map(Self.allDay)
    }

    /// The date of a DATE-TIME value written as 00:00:00, as a DATE.
    private static func midnightDate(_ property: OpaquePointer) -> icaltimetype? {
        guard let value = icalproperty_get_value(property), icalvalue_isa(value) == ICAL_DATETIME_VALUE else { return nil }
        var time = icalvalue_get_datetime(value)
        guard icaltime_is_null_time(time) == 0, icaltime_is_valid_time(time) != 0,
            time.hour == 0, time.minute == 0, time.second == 0
        else { return nil }
        time.is_date = 1
        time.zone = nil
        return time
    }

    private static func allDay(_ date: icaltimetype) -> EventTime {
        EventTime(year: Int(date.year), month: Int(date.month), day: Int(date.day), kind: .date)
    }

    private static func organizer(_ property: OpaquePointer) -> EventOrganizer {
        EventOrganizer(
            email: Self.valueString(property).map(CalendarAddress.strip),
            name: Self.parameter(property, "CN"),
            sentBy: Self.parameter(property, "SENT-BY").map(CalendarAddress.strip))
    }

    private static func attendee(_ property: OpaquePointer) -> EventAttendee? {
        guard let address = Self.valueString(property).map(CalendarAddress.strip), !address.isEmpty else { return nil }
        return EventAttendee(
            email: address,
            name: Self.parameter(property, "CN"),
            partstat: Self.parameter(property, "PARTSTAT")?.uppercased() ?? "NEEDS-ACTION",
            role: Self.parameter(property, "ROLE")?.uppercased() ?? "REQ-PARTICIPANT",
            rsvp: Self.parameter(property, "RSVP")?.uppercased() == "TRUE")
    }

    // MARK: - Times

    /// A date-time property resolved with the VTIMEZONEs of the calendar, then the system zone
    /// database (IANA names, Windows names mapped to IANA), and converted to UTC. A VTIMEZONE
    /// of the calendar is used through its cached copy in `zones` when there is one.
    private static func time(
        _ property: OpaquePointer, in component: OpaquePointer, zones: [String: OpaquePointer], adding duration: icaldurationtype? = nil
    ) -> EventTime? {
        Self.zoneLock.withLock { _ in Self.resolvedTime(property, in: component, zones: zones, adding: duration) }
    }

    private static func resolvedTime(
        _ property: OpaquePointer, in component: OpaquePointer, zones: [String: OpaquePointer], adding duration: icaldurationtype?
    ) -> EventTime? {
        guard let value = icalproperty_get_value(property) else { return nil }
        let valueKind = icalvalue_isa(value)
        guard valueKind == ICAL_DATETIME_VALUE || valueKind == ICAL_DATE_VALUE else { return nil }
        var time = icalproperty_get_datetime_with_component(property, component)
        guard icaltime_is_null_time(time) == 0, icaltime_is_valid_time(time) != 0 else { return nil }
        let tzid = Self.parameter(property, "TZID")
        if time.is_date == 0, let own = time.zone, let name = icaltimezone_get_tzid(own),
            let cached = zones[String(cString: name)]
        {
            // The calendar's own VTIMEZONE, found by libical: the cached copy is of the same text.
            time = icaltime_set_timezone(&time, cached)
        }
        if time.is_date == 0, icaltime_is_utc(time) == 0, time.zone == nil, let tzid,
            let zone = Self.systemZone(named: tzid)
        {
            time = icaltime_set_timezone(&time, zone)
        }
        if let duration {
            // RFC 5545 §3.3.6: days and weeks are nominal (added to the local date), hours,
            // minutes and seconds exact (added to the instant, across any DST change).
            var nominal = icaldurationtype_null_duration()
            nominal.is_neg = duration.is_neg
            nominal.weeks = duration.weeks
            nominal.days = duration.days
            var exact = icaldurationtype_null_duration()
            exact.is_neg = duration.is_neg
            exact.hours = duration.hours
            exact.minutes = duration.minutes
            exact.seconds = duration.seconds
            time = icaltime_add(time, nominal)
            if time.is_date == 0, icaltime_is_utc(time) == 0, time.zone != nil {
                time = icaltime_convert_to_zone(time, icaltimezone_get_utc_timezone())
            }
            time = icaltime_add(time, exact)
        }
        if time.is_date != 0 {
            return EventTime(year: Int(time.year), month: Int(time.month), day: Int(time.day), kind: .date, tzid: tzid)
        }
        let kind: EventTime.Kind
        if icaltime_is_utc(time) != 0 {
            kind = .utc
        } else if time.zone != nil {
            time = icaltime_convert_to_zone(time, icaltimezone_get_utc_timezone())
            kind = .utc
        } else {
            kind = .floating
        }
        return EventTime(
            year: Int(time.year), month: Int(time.month), day: Int(time.day),
            hour: Int(time.hour), minute: Int(time.minute), second: Int(time.second),
            kind: kind, tzid: tzid)
    }

    /// A zone of the system database for a TZID that has no VTIMEZONE in the file.
    private static func systemZone(named tzid: String) -> OpaquePointer? {
        for candidate in TimeZoneNames.candidates(for: tzid) {
            if let zone = icaltimezone_get_builtin_timezone(candidate) {
                return zone
            }
        }
        return nil
    }

    // MARK: - Values

    /// The value of a TEXT property, unescaped; other kinds as libical writes them.
    private static func text(_ property: OpaquePointer) -> String? {
        guard let value = icalproperty_get_value(property) else { return nil }
        if icalvalue_isa(value) == ICAL_TEXT_VALUE, let text = icalvalue_get_text(value) {
            return String(cString: text)
        }
        return Self.valueString(property)
    }

    static func valueString(_ property: OpaquePointer) -> String? {
        Self.owned(icalproperty_get_value_as_string_r(property))
    }

    private static func parameter(_ property: OpaquePointer, _ name: String) -> String? {
        Self.owned(icalproperty_get_parameter_as_string_r(property, name)).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Copies and frees a caller-owned string from one of libical's `_r` calls.
    static func owned(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        defer { icalmemory_free_buffer(pointer) }
        return String(cString: pointer)
    }

    // MARK: - Traversal

    static func properties(of component: OpaquePointer) -> [OpaquePointer] {
        var result: [OpaquePointer] = []
        var property = icalcomponent_get_first_property(component, ICAL_ANY_PROPERTY)
        while let current = property {
            result.append(current)
            property = icalcomponent_get_next_property(component, ICAL_ANY_PROPERTY)
        }
        return result
    }

    static func children(of component: OpaquePointer, kind: icalcomponent_kind) -> [OpaquePointer] {
        var result: [OpaquePointer] = []
        var child = icalcomponent_get_first_component(component, kind)
        while let current = child {
            result.append(current)
            child = icalcomponent_get_next_component(component, kind)
        }
        return result
    }

    private static func collectErrors(in component: OpaquePointer, into errors: inout [String]) {
        var property = icalcomponent_get_first_property(component, ICAL_XLICERROR_PROPERTY)
        while let current = property {
            if let text = icalproperty_get_xlicerror(current) {
                errors.append(String(cString: text))
            }
            property = icalcomponent_get_next_property(component, ICAL_XLICERROR_PROPERTY)
        }
        for child in Self.children(of: component, kind: ICAL_ANY_COMPONENT) {
            Self.collectErrors(in: child, into: &errors)
        }
    }
}

/// A parsed component tree owned by Swift: freed with the object.
/// Not Sendable: libical components are not safe to share across threads.
private final class OwnedComponent {
    private let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        icalcomponent_free(self.pointer)
    }

    func withUnsafePointer<Result, Failure: Error>(_ body: (OpaquePointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try body(self.pointer)
    }
}
