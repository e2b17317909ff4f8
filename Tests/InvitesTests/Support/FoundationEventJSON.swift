import Foundation
import Invites
import Notifications
import SenderAuthentication

/// The event and failure JSON as they were written before the direct encoder (issue 12):
/// dictionaries serialized by `JSONSerialization` with sorted keys. The reference the encoder's
/// output is compared with; nothing in `Sources` uses it.
enum FoundationEventJSON {
    static func json(_ request: EventRequest, route: Route, truncated: Bool = false) -> String {
        var fields: [String: Any?] = [
            "method": request.method,
            "uid": request.requestId,
            "original_uid": request.originalUID,
            "route": route.rawValue,
            "mailto": request.mailto,
            "return_path": request.returnPath,
            "organizer": request.organizer?.email,
            "organizer_email": request.organizer?.email,
            "organizer_name": request.organizer?.name,
            "sent_by": request.organizer?.sentBy,
            "summary": request.summary,
            "description": request.description,
            "location": request.location,
            "summary_html": request.summary.map(HTMLEscaping.escape),
            "description_html": request.description.map(HTMLEscaping.escape),
            "location_html": request.location.map(HTMLEscaping.escape),
            "dtstart": request.start?.compact,
            "dtend": request.end?.compact,
            "dtstart_iso": request.start?.iso8601,
            "dtend_iso": request.end?.iso8601,
            "dtstamp": request.dtstamp?.compact,
            "created": request.created?.compact,
            "last_modified": request.lastModified?.compact,
            "all_day": request.start?.kind == .date,
            "floating": request.start?.kind == .floating,
            "tzid": request.start?.tzid ?? request.end?.tzid,
            "sequence": request.sequence,
            "status": request.status,
            "prodid": request.prodid,
            "attendees": request.attendees.map(Self.object),
            "rrule": request.rrule,
            "recurrence_id": request.recurrenceId?.compact,
            "overrides": request.overrides.map(Self.object),
            "bucket": request.bucket,
            "key": request.key,
        ]
        if request.method == "counter" {
            fields["proposed_dtstart"] = request.start?.compact
            fields["proposed_dtend"] = request.end?.compact
        }
        if truncated { fields["truncated"] = true }
        return Self.serialize(fields)
    }

    static func json(_ failure: InviteFailure, truncated: Bool = false) -> String {
        var fields: [String: Any?] = [
            "route": Route.failure.rawValue,
            "method": failure.method,
            "uid": failure.requestId,
            "reason": failure.reason,
            "mailto": failure.mailto,
            "return_path": failure.returnPath,
            "bucket": failure.bucket,
            "key": failure.key,
            "notify": failure.notify,
        ]
        if let refused = failure.refusedRequest {
            fields["original_uid"] = refused.originalUID
            fields["sequence"] = refused.sequence
            fields["refused_route"] = refused.route
        }
        if truncated { fields["truncated"] = true }
        return Self.serialize(fields)
    }

    /// The sender-authentication members as they were written before the direct encoder: a
    /// sorted-keys object whose members followed the event's (or failure notice's) own.
    static func senderAuthenticationMembers(_ summary: SenderAuthenticationSummary) -> String {
        let report = summary.report
        func cut(_ text: String) -> String { String(text.prefix(512)) }
        var receipt: [String: Any?] = [
            "spfVerdict": ["status": report.spfVerdict.rawValue],
            "dkimVerdict": ["status": report.dkimVerdict.rawValue],
            "dmarcVerdict": ["status": report.dmarcVerdict.rawValue],
            "spf": Self.nullFilled([
                "result": report.spf.result.rawValue, "identityKind": cut(report.spf.identityKind),
                "identity": cut(report.spf.identity), "domain": cut(report.spf.domain),
            ]),
            "dkimSignatures": report.dkim.prefix(16).map { signature in
                Self.nullFilled([
                    "result": signature.result.rawValue, "domain": cut(signature.domain), "selector": cut(signature.selector),
                    "algorithm": cut(signature.algorithm), "reason": signature.reason.map(cut),
                ])
            },
            "dmarc": Self.nullFilled([
                "result": report.dmarc.result.rawValue, "fromDomain": cut(report.dmarc.fromDomain),
                "organizationalDomain": cut(report.dmarc.organizationalDomain), "policy": report.dmarc.policy?.rawValue,
            ]),
            "arc": Self.nullFilled([
                "present": report.arc.present, "chainValidation": report.arc.chainValidation.map(cut),
                "sealers": report.arc.sealers.prefix(32).map(cut), "trusted": report.arc.trusted,
            ]),
            "authenticatedDomains": report.authenticatedDomains.prefix(32).map(cut),
            "fromAddress": report.fromAddress.map(cut),
            "fromDomain": report.fromDomain.map(cut),
            "clientIp": cut(report.clientAddress),
            "ignoredAuthenticationResults": summary.ignoredAuthenticationResults,
        ]
        if let policy = report.dmarcPolicy { receipt["dmarcPolicy"] = ["status": policy.rawValue] }
        var fields: [String: Any?] = [
            "receipt": Self.nullFilled(receipt),
            "authentication_results": summary.authenticationResults,
            "sender_authenticated": report.senderAuthenticated,
            "sender_policy": summary.policy,
        ]
        if let matches = summary.organizerMatchesSender { fields["organizer_matches_sender"] = matches }
        let object = Self.serialize(fields)
        return String(object.dropFirst().dropLast())
    }

    private static func object(_ attendee: EventAttendee) -> [String: Any] {
        Self.nullFilled([
            "email": attendee.email, "name": attendee.name, "partstat": attendee.partstat, "role": attendee.role,
            "rsvp": attendee.rsvp,
        ])
    }

    private static func object(_ override: EventOverride) -> [String: Any] {
        Self.nullFilled([
            "recurrence_id": override.recurrenceId.compact,
            "sequence": override.sequence,
            "dtstart": override.start?.compact,
            "dtend": override.end?.compact,
            "dtstart_iso": override.start?.iso8601,
            "dtend_iso": override.end?.iso8601,
            "all_day": override.start?.kind == .date,
            "summary": override.summary,
            "description": override.description,
            "location": override.location,
            "status": override.status,
            "attendees": override.attendees.map(Self.object),
        ])
    }

    private static func nullFilled(_ fields: [String: Any?]) -> [String: Any] {
        fields.mapValues { $0 ?? NSNull() }
    }

    private static func serialize(_ fields: [String: Any?]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: Self.nullFilled(fields), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON text parsed into Foundation objects, for a comparison that ignores spelling.
    static func parsed(_ json: String) -> NSDictionary? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? NSDictionary
    }
}
