import Notifications

extension EventRequest {
    /// The event JSON (the `default` message of the topic publish), with the field names of docs/architecture.md, "Wire contracts".
    /// `truncated`: some fields were shortened to fit the topic's message size; the JSON then
    /// has `"truncated": true`, and `bucket` and `key` point to the whole message.
    ///
    /// The members are written in alphabetical order, the order of the sorted-keys
    /// serialization this replaced, so equal requests give byte-equal JSON; a new member may go
    /// anywhere (readers look fields up by name). The sender-authentication members follow.
    /// `senderAuthentication`: the verdicts, with `--sender-policy report` or `enforce`.
    public func json(route: Route, truncated: Bool = false, senderAuthentication: SenderAuthenticationSummary? = nil) -> String {
        var writer = JSONObjectWriter(reservingCapacity: 1024 + (self.description?.utf8.count ?? 0) * 2)
        self.writeFields(to: &writer, route: route, truncated: truncated)
        senderAuthentication?.writeFields(to: &writer)
        return writer.finish()
    }

    func writeFields(to writer: inout JSONObjectWriter, route: Route, truncated: Bool) {
        writer.field("all_day", self.start?.kind == .date)
        writer.field("attendees", array: self.attendees) { $1.writeFields(to: &$0) }
        writer.field("bucket", self.bucket)
        writer.field("created", self.created?.compact)
        writer.field("description", self.description)
        writer.field("description_html", self.description.map(HTMLEscaping.escape))
        writer.field("dtend", self.end?.compact)
        writer.field("dtend_iso", self.end?.iso8601)
        writer.field("dtstamp", self.dtstamp?.compact)
        writer.field("dtstart", self.start?.compact)
        writer.field("dtstart_iso", self.start?.iso8601)
        writer.field("floating", self.start?.kind == .floating)
        writer.field("key", self.key)
        writer.field("last_modified", self.lastModified?.compact)
        writer.field("location", self.location)
        writer.field("location_html", self.location.map(HTMLEscaping.escape))
        writer.field("mailto", self.mailto)
        writer.field("method", self.method)
        writer.field("organizer", self.organizer?.email)
        writer.field("organizer_email", self.organizer?.email)
        writer.field("organizer_name", self.organizer?.name)
        writer.field("original_uid", self.originalUID)
        writer.field("overrides", array: self.overrides) { $1.writeFields(to: &$0) }
        writer.field("prodid", self.prodid)
        if self.method == "counter" {
            writer.field("proposed_dtend", self.end?.compact)
            writer.field("proposed_dtstart", self.start?.compact)
        }
        writer.field("recurrence_id", self.recurrenceId?.compact)
        writer.field("return_path", self.returnPath)
        writer.field("route", route.rawValue)
        writer.field("rrule", self.rrule)
        writer.field("sent_by", self.organizer?.sentBy)
        writer.field("sequence", self.sequence)
        writer.field("status", self.status)
        writer.field("summary", self.summary)
        writer.field("summary_html", self.summary.map(HTMLEscaping.escape))
        if truncated { writer.field("truncated", true) }
        writer.field("tzid", self.start?.tzid ?? self.end?.tzid)
        writer.field("uid", self.requestId)
    }
}

extension EventAttendee {
    func writeFields(to writer: inout JSONObjectWriter) {
        writer.field("email", self.email)
        writer.field("name", self.name)
        writer.field("partstat", self.partstat)
        writer.field("role", self.role)
        writer.field("rsvp", self.rsvp)
    }
}

extension EventOverride {
    func writeFields(to writer: inout JSONObjectWriter) {
        writer.field("all_day", self.start?.kind == .date)
        writer.field("attendees", array: self.attendees) { $1.writeFields(to: &$0) }
        writer.field("description", self.description)
        writer.field("dtend", self.end?.compact)
        writer.field("dtend_iso", self.end?.iso8601)
        writer.field("dtstart", self.start?.compact)
        writer.field("dtstart_iso", self.start?.iso8601)
        writer.field("location", self.location)
        writer.field("recurrence_id", self.recurrenceId.compact)
        writer.field("sequence", self.sequence)
        writer.field("status", self.status)
        writer.field("summary", self.summary)
    }
}
