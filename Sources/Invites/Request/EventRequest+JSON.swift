import Notifications

extension EventRequest {
    /// The event JSON (the `default` message of the topic publish), with the field names of docs/architecture.md, "Wire contracts".
    /// `truncated`: some fields were shortened to fit the topic's message size; the JSON then
    /// has `"truncated": true`, and `bucket` and `key` point to the whole message.
    /// `senderAuthentication`: the verdicts, with `--sender-policy report` or `enforce`.
    public func json(route: Route, truncated: Bool = false, senderAuthentication: SenderAuthenticationSummary? = nil) -> String {
        var fields = self.jsonFields(route: route)
        if truncated { fields["truncated"] = true }
        if let senderAuthentication { fields.merge(senderAuthentication.jsonFields()) { _, added in added } }
        return JSONText.serialize(fields)
    }

    func jsonFields(route: Route) -> [String: Any?] {
        var fields: [String: Any?] = [
            "method": self.method,
            "uid": self.requestId,
            "original_uid": self.originalUID,
            "route": route.rawValue,
            "mailto": self.mailto,
            "return_path": self.returnPath,
            "organizer": self.organizer?.email,
            "organizer_email": self.organizer?.email,
            "organizer_name": self.organizer?.name,
            "sent_by": self.organizer?.sentBy,
            "summary": self.summary,
            "description": self.description,
            "location": self.location,
            "summary_html": self.summary.map(HTMLEscaping.escape),
            "description_html": self.description.map(HTMLEscaping.escape),
            "location_html": self.location.map(HTMLEscaping.escape),
            "dtstart": self.start?.compact,
            "dtend": self.end?.compact,
            "dtstart_iso": self.start?.iso8601,
            "dtend_iso": self.end?.iso8601,
            "dtstamp": self.dtstamp?.compact,
            "created": self.created?.compact,
            "last_modified": self.lastModified?.compact,
            "all_day": self.start?.kind == .date,
            "floating": self.start?.kind == .floating,
            "tzid": self.start?.tzid ?? self.end?.tzid,
            "sequence": self.sequence,
            "status": self.status,
            "prodid": self.prodid,
            "attendees": self.attendees.map(\.jsonObject),
            "rrule": self.rrule,
            "recurrence_id": self.recurrenceId?.compact,
            "overrides": self.overrides.map(\.jsonObject),
            "bucket": self.bucket,
            "key": self.key,
        ]
        if self.method == "counter" {
            fields["proposed_dtstart"] = self.start?.compact
            fields["proposed_dtend"] = self.end?.compact
        }
        return fields
    }
}

extension EventAttendee {
    var jsonObject: [String: Any] {
        JSONText.object([
            "email": self.email,
            "name": self.name,
            "partstat": self.partstat,
            "role": self.role,
            "rsvp": self.rsvp,
        ])
    }
}

extension EventOverride {
    var jsonObject: [String: Any] {
        JSONText.object([
            "recurrence_id": self.recurrenceId.compact,
            "sequence": self.sequence,
            "dtstart": self.start?.compact,
            "dtend": self.end?.compact,
            "dtstart_iso": self.start?.iso8601,
            "dtend_iso": self.end?.iso8601,
            "all_day": self.start?.kind == .date,
            "summary": self.summary,
            "description": self.description,
            "location": self.location,
            "status": self.status,
            "attendees": self.attendees.map(\.jsonObject),
        ])
    }
}
