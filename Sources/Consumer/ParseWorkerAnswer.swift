import Invites

/// A parse worker's answer (an `InviteParseResult`) in binary, written and read member by
/// member in declaration order (Codable JSON cost more than a tenth of a worker's CPU and of
/// the consumer's). The answer comes from a process that parsed hostile input, so the reader
/// trusts nothing: every length and count is checked against the bytes left, every string's
/// UTF-8 is validated, every tag and flag must be one of its values, and no byte may follow.
///
/// Layout: a tag byte (1 requests, 2 failure, 3 ignored), then the case's members. A string is
/// a 4-byte big-endian length and UTF-8; an integer 8 bytes big-endian (two's complement); a
/// Boolean one byte (0 or 1); an optional a presence byte (0 or 1) then the value; an array a
/// 4-byte big-endian count then the elements.
public enum ParseWorkerAnswer {
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ result: InviteParseResult) -> [UInt8] {
        var writer = Writer()
        switch result {
        case .requests(let requests):
            writer.byte(1)
            writer.array(requests) { $0.request($1) }
        case .failure(let failure):
            writer.byte(2)
            writer.failure(failure)
        case .ignored(let reason):
            writer.byte(3)
            writer.string(reason)
        }
        return writer.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(Malformed) -> InviteParseResult {
        try bytes.withUnsafeBufferPointer { buffer throws(Malformed) in
            var reader = Reader(bytes: buffer)
            let result: InviteParseResult
            switch try reader.byte("the answer's tag") {
            case 1: result = .requests(try reader.array { reader throws(Malformed) in try reader.request() })
            case 2: result = .failure(try reader.failure())
            case 3: result = .ignored(reason: try reader.string("the reason"))
            case let tag: throw Malformed(description: "unknown answer tag \(tag)")
            }
            guard reader.offset == buffer.count else { throw Malformed(description: "\(buffer.count - reader.offset) bytes after the answer") }
            return result
        }
    }

    struct Writer {
        var bytes: [UInt8] = []

        init() {
            self.bytes.reserveCapacity(2048)
        }

        mutating func byte(_ value: UInt8) {
            self.bytes.append(value)
        }

        mutating func bool(_ value: Bool) {
            self.bytes.append(value ? 1 : 0)
        }

        mutating func length(_ value: Int) {
            let value = UInt32(value)
            self.bytes.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
        }

        mutating func integer(_ value: Int) {
            let value = UInt64(bitPattern: Int64(value))
            for shift in stride(from: 56, through: 0, by: -8) {
                self.bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }

        mutating func string(_ value: String) {
            var value = value
            value.withUTF8 { utf8 in
                self.length(utf8.count)
                self.bytes.append(contentsOf: utf8)
            }
        }

        mutating func optional<Value>(_ value: Value?, _ body: (inout Writer, Value) -> Void) {
            guard let value else { return self.byte(0) }
            self.byte(1)
            body(&self, value)
        }

        mutating func string(_ value: String?) {
            self.optional(value) { $0.string($1) }
        }

        mutating func array<Element>(_ elements: [Element], _ body: (inout Writer, Element) -> Void) {
            self.length(elements.count)
            for element in elements { body(&self, element) }
        }

        mutating func time(_ time: EventTime) {
            for value in [time.year, time.month, time.day, time.hour, time.minute, time.second] { self.integer(value) }
            self.byte(time.kind == .utc ? 0 : time.kind == .date ? 1 : 2)
            self.string(time.tzid)
        }

        mutating func time(_ time: EventTime?) {
            self.optional(time) { $0.time($1) }
        }

        mutating func attendee(_ attendee: EventAttendee) {
            self.string(attendee.email)
            self.string(attendee.name)
            self.string(attendee.partstat)
            self.string(attendee.role)
            self.bool(attendee.rsvp)
        }

        mutating func request(_ request: EventRequest) {
            self.string(request.method)
            self.string(request.requestId)
            self.string(request.originalUID)
            self.integer(request.sequence)
            self.string(request.mailto)
            self.string(request.returnPath)
            self.optional(request.organizer) { writer, organizer in
                writer.string(organizer.email)
                writer.string(organizer.name)
                writer.string(organizer.sentBy)
            }
            for text in [request.summary, request.description, request.location] { self.string(text) }
            for time in [request.start, request.end, request.dtstamp, request.created, request.lastModified] { self.time(time) }
            self.string(request.status)
            self.string(request.prodid)
            self.array(request.attendees) { $0.attendee($1) }
            self.string(request.rrule)
            self.time(request.recurrenceId)
            self.array(request.overrides) { writer, override in
                writer.time(override.recurrenceId)
                writer.integer(override.sequence)
                writer.time(override.start)
                writer.time(override.end)
                for text in [override.summary, override.description, override.location, override.status] { writer.string(text) }
                writer.array(override.attendees) { $0.attendee($1) }
            }
            self.string(request.bucket)
            self.string(request.key)
        }

        mutating func failure(_ failure: InviteFailure) {
            self.string(failure.reason)
            self.string(failure.requestId)
            self.string(failure.mailto)
            self.string(failure.returnPath)
            self.string(failure.method)
            self.string(failure.bucket)
            self.string(failure.key)
            self.bool(failure.notify)
            self.optional(failure.refusedRequest) { writer, refused in
                writer.string(refused.originalUID)
                writer.integer(refused.sequence)
                writer.string(refused.route)
            }
        }
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        private func malformed(_ what: String) -> Malformed {
            Malformed(description: "the answer ends inside \(what)")
        }

        mutating func byte(_ what: String) throws(Malformed) -> UInt8 {
            guard self.offset < self.bytes.count else { throw self.malformed(what) }
            defer { self.offset += 1 }
            return self.bytes[self.offset]
        }

        mutating func flag(_ what: String) throws(Malformed) -> Bool {
            switch try self.byte(what) {
            case 0: return false
            case 1: return true
            case let value: throw Malformed(description: "\(what) is \(value), neither 0 nor 1")
            }
        }

        mutating func length(_ what: String) throws(Malformed) -> Int {
            guard self.bytes.count - self.offset >= 4 else { throw self.malformed(what) }
            var value = 0
            for index in self.offset..<self.offset + 4 { value = value << 8 | Int(self.bytes[index]) }
            self.offset += 4
            return value
        }

        mutating func integer(_ what: String) throws(Malformed) -> Int {
            guard self.bytes.count - self.offset >= 8 else { throw self.malformed(what) }
            var value: UInt64 = 0
            for index in self.offset..<self.offset + 8 { value = value << 8 | UInt64(self.bytes[index]) }
            self.offset += 8
            return Int(Int64(bitPattern: value))
        }

        mutating func string(_ what: String) throws(Malformed) -> String {
            let length = try self.length("the length of \(what)")
            guard self.bytes.count - self.offset >= length else { throw self.malformed(what) }
            let utf8 = UnsafeBufferPointer(rebasing: self.bytes[self.offset..<self.offset + length])
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Malformed(description: "\(what) is not UTF-8") }
            self.offset += length
            return text
        }

        mutating func optional<Value>(_ what: String, _ body: (inout Reader) throws(Malformed) -> Value) throws(Malformed) -> Value? {
            try self.flag("the presence of \(what)") ? try body(&self) : nil
        }

        mutating func optionalString(_ what: String) throws(Malformed) -> String? {
            try self.optional(what) { reader throws(Malformed) in try reader.string(what) }
        }

        /// An array whose count is bounded by the bytes left (every element takes at least one).
        mutating func array<Element>(_ body: (inout Reader) throws(Malformed) -> Element) throws(Malformed) -> [Element] {
            let count = try self.length("an array's count")
            guard count <= self.bytes.count - self.offset else { throw Malformed(description: "an array of \(count) elements in fewer bytes") }
            var elements: [Element] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try body(&self)) }
            return elements
        }

        mutating func time(_ what: String) throws(Malformed) -> EventTime {
            var values: [Int] = []
            for part in ["year", "month", "day", "hour", "minute", "second"] { values.append(try self.integer("the \(part) of \(what)")) }
            let kind: EventTime.Kind
            switch try self.byte("the kind of \(what)") {
            case 0: kind = .utc
            case 1: kind = .date
            case 2: kind = .floating
            case let value: throw Malformed(description: "the kind of \(what) is \(value)")
            }
            return EventTime(
                year: values[0], month: values[1], day: values[2], hour: values[3], minute: values[4], second: values[5], kind: kind,
                tzid: try self.optionalString("the TZID of \(what)"))
        }

        mutating func optionalTime(_ what: String) throws(Malformed) -> EventTime? {
            try self.optional(what) { reader throws(Malformed) in try reader.time(what) }
        }

        mutating func attendee() throws(Malformed) -> EventAttendee {
            EventAttendee(
                email: try self.string("an attendee's email"), name: try self.optionalString("an attendee's name"),
                partstat: try self.string("an attendee's PARTSTAT"), role: try self.string("an attendee's ROLE"),
                rsvp: try self.flag("an attendee's RSVP"))
        }

        mutating func request() throws(Malformed) -> EventRequest {
            var request = EventRequest(
                method: try self.string("the method"), requestId: try self.string("the request id"),
                originalUID: try self.string("the UID"), sequence: try self.integer("the SEQUENCE"))
            request.mailto = try self.optionalString("the mailto")
            request.returnPath = try self.optionalString("the Return-Path")
            request.organizer = try self.optional("the ORGANIZER") { reader throws(Malformed) in
                EventOrganizer(
                    email: try reader.optionalString("the ORGANIZER's email"), name: try reader.optionalString("the ORGANIZER's name"),
                    sentBy: try reader.optionalString("the ORGANIZER's SENT-BY"))
            }
            request.summary = try self.optionalString("the SUMMARY")
            request.description = try self.optionalString("the DESCRIPTION")
            request.location = try self.optionalString("the LOCATION")
            request.start = try self.optionalTime("the start")
            request.end = try self.optionalTime("the end")
            request.dtstamp = try self.optionalTime("the DTSTAMP")
            request.created = try self.optionalTime("the CREATED")
            request.lastModified = try self.optionalTime("the LAST-MODIFIED")
            request.status = try self.optionalString("the STATUS")
            request.prodid = try self.optionalString("the PRODID")
            request.attendees = try self.array { reader throws(Malformed) in try reader.attendee() }
            request.rrule = try self.optionalString("the RRULE")
            request.recurrenceId = try self.optionalTime("the RECURRENCE-ID")
            request.overrides = try self.array { reader throws(Malformed) in try reader.override() }
            request.bucket = try self.string("the bucket")
            request.key = try self.string("the key")
            return request
        }

        mutating func override() throws(Malformed) -> EventOverride {
            EventOverride(
                recurrenceId: try self.time("an override's RECURRENCE-ID"), sequence: try self.integer("an override's SEQUENCE"),
                start: try self.optionalTime("an override's start"), end: try self.optionalTime("an override's end"),
                summary: try self.optionalString("an override's SUMMARY"), description: try self.optionalString("an override's DESCRIPTION"),
                location: try self.optionalString("an override's LOCATION"), status: try self.optionalString("an override's STATUS"),
                attendees: try self.array { reader throws(Malformed) in try reader.attendee() })
        }

        mutating func failure() throws(Malformed) -> InviteFailure {
            var failure = InviteFailure(
                reason: try self.string("the failure's reason"), requestId: try self.string("the failure's request id"),
                mailto: try self.optionalString("the failure's mailto"), returnPath: try self.optionalString("the failure's Return-Path"),
                method: try self.optionalString("the failure's method"), bucket: try self.string("the failure's bucket"),
                key: try self.string("the failure's key"))
            failure.notify = try self.flag("the failure's notify flag")
            failure.refusedRequest = try self.optional("the refused request") { reader throws(Malformed) in
                InviteFailure.RefusedRequest(
                    originalUID: try reader.string("the refused UID"), sequence: try reader.integer("the refused SEQUENCE"),
                    route: try reader.string("the refused route"))
            }
            return failure
        }
    }
}
