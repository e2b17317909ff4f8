import Foundation
import Invites
import Notifications

/// Keeps every published message within SNS's 256 KiB, counted as a subscriber queue receives
/// it: the event JSON escaped once more inside SNS's envelope (`Type`, `MessageId`, `TopicArn`,
/// `Timestamp`, the signature fields and the message attributes; `envelopeReserve`).
///
/// An event that does not fit is shortened step by step (long texts cut, lists of attendees
/// and overrides shortened, then every other long text) until it does, and says
/// `"truncated": true`; `bucket` and `key` always stay, pointing to the whole message.
enum TopicMessageSizeLimit {
    static let maximumMessageBytes = 262_144
    static let envelopeReserve = 8_192

    /// The steps: at most this many characters per text, this many list entries.
    private static let steps: [(characters: Int, entries: Int)] = [
        (65_536, 1_000), (16_384, 250), (4_096, 60), (1_024, 15), (256, 4), (64, 0),
    ]

    /// Whether `json` fits: its size escaped as a JSON string, plus the envelope.
    static func fits(_ json: String) -> Bool {
        self.escapedSize(json) + self.envelopeReserve <= self.maximumMessageBytes
    }

    /// The event JSON, shortened when needed; `truncated` says whether it was.
    static func json(
        for request: EventRequest, route: Route, senderAuthentication: SenderAuthenticationSummary? = nil
    ) -> (json: String, truncated: Bool) {
        let full = request.json(route: route, senderAuthentication: senderAuthentication)
        if self.fits(full) { return (full, false) }
        var json = full
        for step in self.steps {
            json = self.shortened(request, to: step).json(route: route, truncated: true, senderAuthentication: senderAuthentication)
            if self.fits(json) { return (json, true) }
        }
        return (json, true)
    }

    /// The failure notice JSON, shortened when needed (the reason and addresses cut).
    static func json(
        for failure: InviteFailure, senderAuthentication: SenderAuthenticationSummary? = nil
    ) -> (json: String, truncated: Bool) {
        let full = failure.json(senderAuthentication: senderAuthentication)
        if self.fits(full) { return (full, false) }
        var json = full
        for step in self.steps {
            var shortened = failure
            shortened.reason = self.cut(failure.reason, step.characters)
            shortened.mailto = failure.mailto.map { self.cut($0, step.characters) }
            shortened.returnPath = failure.returnPath.map { self.cut($0, step.characters) }
            shortened.method = failure.method.map { self.cut($0, step.characters) }
            json = shortened.json(truncated: true, senderAuthentication: senderAuthentication)
            if self.fits(json) { return (json, true) }
        }
        return (json, true)
    }

    private static func shortened(_ request: EventRequest, to step: (characters: Int, entries: Int)) -> EventRequest {
        let characters = step.characters
        var request = request
        request.description = request.description.map { self.cut($0, characters) }
        request.summary = request.summary.map { self.cut($0, characters) }
        request.location = request.location.map { self.cut($0, characters) }
        request.rrule = request.rrule.map { self.cut($0, characters) }
        request.prodid = request.prodid.map { self.cut($0, characters) }
        request.status = request.status.map { self.cut($0, characters) }
        request.mailto = request.mailto.map { self.cut($0, characters) }
        request.returnPath = request.returnPath.map { self.cut($0, characters) }
        request.originalUID = self.cut(request.originalUID, max(characters, 1_024))
        if var organizer = request.organizer {
            organizer.email = organizer.email.map { self.cut($0, characters) }
            organizer.name = organizer.name.map { self.cut($0, characters) }
            organizer.sentBy = organizer.sentBy.map { self.cut($0, characters) }
            request.organizer = organizer
        }
        request.attendees = request.attendees.prefix(step.entries).map { self.shortened($0, characters) }
        request.overrides = request.overrides.prefix(step.entries).map { original in
            var override = original
            override.description = override.description.map { self.cut($0, characters) }
            override.summary = override.summary.map { self.cut($0, characters) }
            override.location = override.location.map { self.cut($0, characters) }
            override.status = override.status.map { self.cut($0, characters) }
            override.attendees = override.attendees.prefix(step.entries).map { self.shortened($0, characters) }
            return override
        }
        return request
    }

    private static func shortened(_ attendee: EventAttendee, _ characters: Int) -> EventAttendee {
        var attendee = attendee
        attendee.email = self.cut(attendee.email, characters)
        attendee.name = attendee.name.map { self.cut($0, characters) }
        attendee.partstat = self.cut(attendee.partstat, characters)
        attendee.role = self.cut(attendee.role, characters)
        return attendee
    }

    /// The first `characters` characters of `text`.
    private static func cut(_ text: String, _ characters: Int) -> String {
        text.count <= characters ? text : String(text.prefix(characters))
    }

    /// UTF-8 bytes of `text` as a JSON string value the way SNS and its envelope escape it:
    /// quotes, backslashes and slashes get a backslash, control characters become `\u00XX`.
    private static func escapedSize(_ text: String) -> Int {
        var size = 2
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): size += 2
            case 0x08, 0x09, 0x0A, 0x0C, 0x0D: size += 2
            case 0x00..<0x20: size += 6
            default: size += 1
            }
        }
        return size
    }
}
