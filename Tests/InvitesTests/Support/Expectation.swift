import Foundation
import Invites
import Notifications
import Testing

/// One entry of corpus-expected.json or cases/expected.json.
struct Expectation: Decodable, Sendable, CustomTestStringConvertible {
    struct Request: Decodable, Sendable {
        var method: String
        var uid: String
        var sequence: Int
        var dtstartUTC: String?
        var dtendUTC: String?
        var allDay: Bool
        var organizerEmail: String?
        var attendees: [String: String]
        var route: String
        /// Checked only when the entry gives it.
        var summary: String?

        enum CodingKeys: String, CodingKey {
            case method, uid, sequence, route, attendees, summary
            case dtstartUTC = "dtstart_utc"
            case dtendUTC = "dtend_utc"
            case allDay = "all_day"
            case organizerEmail = "organizer_email"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.method = try container.decode(String.self, forKey: .method)
            self.uid = try container.decode(String.self, forKey: .uid)
            self.sequence = try container.decodeIfPresent(Int.self, forKey: .sequence) ?? 0
            self.dtstartUTC = try container.decodeIfPresent(String.self, forKey: .dtstartUTC)
            self.dtendUTC = try container.decodeIfPresent(String.self, forKey: .dtendUTC)
            self.allDay = try container.decodeIfPresent(Bool.self, forKey: .allDay) ?? false
            self.organizerEmail = try container.decodeIfPresent(String.self, forKey: .organizerEmail)
            self.attendees = try container.decodeIfPresent([String: String].self, forKey: .attendees) ?? [:]
            self.route = try container.decode(String.self, forKey: .route)
            self.summary = try container.decodeIfPresent(String.self, forKey: .summary)
        }
    }

    var file: String
    var index: Int?
    var outcome: String
    var failureReasonContains: String?
    /// The requester's address; checked only when the entry gives it.
    var mailto: String?
    var requests: [Request]?

    enum CodingKeys: String, CodingKey {
        case file, index, outcome, requests, mailto
        case failureReasonContains = "failure_reason_contains"
    }

    var testDescription: String {
        self.index.map { "\(self.file)#\($0)" } ?? self.file
    }

    static func load(_ url: URL) throws -> [Expectation] {
        try JSONDecoder().decode([Expectation].self, from: Data(contentsOf: url))
    }

    /// The message bytes this entry is about: the file, or its index-th message for an mbox.
    func message(in directory: URL) throws -> [UInt8] {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(self.file)))
        guard let index = self.index, self.file.hasSuffix(".mbox") else { return bytes }
        let messages = MboxSplitter.messages(in: bytes)
        guard index < messages.count else {
            throw FixtureError("\(self.file) has \(messages.count) messages, no index \(index)")
        }
        return messages[index]
    }

    /// The differences between `result` and this expectation; empty when they agree.
    func mismatches(with result: InviteParseResult) -> [String] {
        switch (self.outcome, result) {
        case ("failure", .failure(let failure)):
            var problems: [String] = []
            if let needle = self.failureReasonContains?.lowercased(), !failure.reason.lowercased().contains(needle) {
                problems.append("failure reason \"\(failure.reason)\" does not contain \"\(needle)\"")
            }
            if let mailto = self.mailto, mailto.lowercased() != failure.mailto?.lowercased() {
                problems.append("mailto expected \(mailto), got \(failure.mailto ?? "nil")")
            }
            return problems
        case ("ignored", .ignored):
            return []
        case ("requests", .requests(let requests)):
            return self.mismatches(with: requests)
        default:
            return ["expected outcome \(self.outcome), got \(Self.describe(result))"]
        }
    }

    private func mismatches(with requests: [EventRequest]) -> [String] {
        let expected = self.requests ?? []
        guard expected.count == requests.count else {
            return ["expected \(expected.count) requests, got \(requests.count): \(requests.map(\.originalUID))"]
        }
        var problems: [String] = []
        for (want, got) in zip(expected, requests) {
            let route = EventClassifier.route(for: got, isKnown: nil).rawValue
            func check<Value: Equatable>(_ field: String, _ wanted: Value, _ actual: Value) {
                if wanted != actual { problems.append("\(want.uid): \(field) expected \(wanted), got \(actual)") }
            }
            check("method", want.method, got.method)
            check("uid", want.uid, got.originalUID)
            check("sequence", want.sequence, got.sequence)
            check("dtstart_utc", want.dtstartUTC, got.start?.compact)
            check("dtend_utc", want.dtendUTC, got.end?.compact)
            check("all_day", want.allDay, got.start?.kind == .date)
            check("organizer_email", want.organizerEmail?.lowercased(), got.organizer?.email?.lowercased())
            let attendees = Dictionary(
                got.attendees.map { ($0.email.lowercased(), $0.partstat) }, uniquingKeysWith: { _, last in last })
            let wantedAttendees = Dictionary(
                want.attendees.map { ($0.key.lowercased(), $0.value.uppercased()) }, uniquingKeysWith: { first, _ in first })
            check("attendees", wantedAttendees, attendees)
            check("route", want.route, route)
            if let summary = want.summary { check("summary", summary, got.summary ?? "") }
            if let mailto = self.mailto { check("mailto", mailto.lowercased(), got.mailto?.lowercased() ?? "") }
        }
        return problems
    }

    private static func describe(_ result: InviteParseResult) -> String {
        switch result {
        case .requests(let requests): return "requests \(requests.map { "\($0.method) \($0.originalUID)" })"
        case .failure(let failure): return "failure: \(failure.reason)"
        case .ignored(let reason): return "ignored: \(reason)"
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Splits an mbox file into messages: a line starting with "From " begins the next one.
enum MboxSplitter {
    static func messages(in bytes: [UInt8]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var current: [UInt8]?
        var lineStart = 0
        while lineStart < bytes.count {
            let newline = bytes[lineStart...].firstIndex(of: 0x0A) ?? (bytes.count - 1)
            let line = bytes[lineStart...newline]
            if line.starts(with: Array("From ".utf8)) {
                if let finished = current { messages.append(finished) }
                current = []
            } else {
                if current == nil { current = [] }
                current?.append(contentsOf: line)
            }
            lineStart = newline + 1
        }
        if let finished = current { messages.append(finished) }
        return messages
    }
}
