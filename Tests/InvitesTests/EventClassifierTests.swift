import Invites
import Notifications
import Testing

@Suite("Event classifier")
struct EventClassifierTests {
    private func request(_ method: String, sequence: Int = 0) -> EventRequest {
        EventRequest(method: method, requestId: "r1", originalUID: "u1", sequence: sequence)
    }

    @Test("REQUEST and PUBLISH: the index decides, else SEQUENCE", arguments: ["request", "publish"])
    func createOrUpdate(_ method: String) {
        #expect(EventClassifier.route(for: self.request(method), isKnown: false) == .create)
        #expect(EventClassifier.route(for: self.request(method, sequence: 4), isKnown: false) == .create)
        #expect(EventClassifier.route(for: self.request(method), isKnown: true) == .update)
        #expect(EventClassifier.route(for: self.request(method), isKnown: nil) == .create)
        #expect(EventClassifier.route(for: self.request(method, sequence: 1), isKnown: nil) == .update)
    }

    @Test("CANCEL, REPLY and COUNTER route by method alone")
    func otherMethods() {
        for isKnown in [true, false, nil] as [Bool?] {
            #expect(EventClassifier.route(for: self.request("cancel", sequence: 2), isKnown: isKnown) == .cancel)
            #expect(EventClassifier.route(for: self.request("reply"), isKnown: isKnown) == .reply)
            #expect(EventClassifier.route(for: self.request("counter"), isKnown: isKnown) == .reply)
            #expect(EventClassifier.route(for: self.request("refresh"), isKnown: isKnown) == .failure)
        }
    }

    @Test("the deduplication id is stable and names request, UID and SEQUENCE")
    func deduplicationId() {
        #expect(self.request("request", sequence: 2).deduplicationId == "r1/u1/2")
    }

    @Test("the event JSON has the documented fields (docs/architecture.md), sorted and stable")
    func jsonFields() throws {
        var request = self.request("request", sequence: 2)
        request.start = EventTime(year: 2024, month: 1, day: 2, hour: 15, kind: .utc, tzid: "Europe/Berlin")
        request.summary = "A & B"
        let json = request.json(route: .update)
        for field in [
            "method", "uid", "original_uid", "mailto", "return_path", "organizer", "summary", "description",
            "location", "dtstart", "dtend", "dtstamp", "created", "last_modified", "sequence", "status", "prodid",
            "summary_html", "description_html", "location_html", "dtstart_iso", "dtend_iso", "all_day", "tzid",
            "organizer_email", "attendees", "rrule", "recurrence_id", "bucket", "key", "route",
        ] {
            #expect(json.contains("\"\(field)\":"), "missing \(field)")
        }
        #expect(json.contains("\"dtstart\":\"20240102T150000Z\""))
        #expect(json.contains("\"dtstart_iso\":\"2024-01-02T15:00:00Z\""))
        #expect(json.contains("\"summary_html\":\"A &amp; B\""))
        #expect(json.contains("\"route\":\"update\""))
        #expect(json.hasPrefix("{\"all_day\":false,\"attendees\":[]"))
        let failure = InviteFailure(reason: "no calendar", requestId: "r1", mailto: "a@example.com")
        #expect(failure.json().contains("\"reason\":\"no calendar\""))
        #expect(failure.json().contains("\"route\":\"failure\""))
    }
}
