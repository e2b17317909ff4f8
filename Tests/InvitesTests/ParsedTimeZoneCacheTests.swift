import Testing

@testable import Invites

/// The process-wide VTIMEZONE cache's two bounds, on a small cache: past `capacity` zones and
/// past `maximumTextSize` bytes a zone is not cached (nil: the calendar keeps its own zone).
@Suite struct ParsedTimeZoneCacheTests {
    func vtimezone(_ tzid: String, padding: Int = 0) -> String {
        [
            "BEGIN:VTIMEZONE", "TZID:\(tzid)", "X-PADDING:" + String(repeating: "x", count: padding),
            "BEGIN:STANDARD", "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD",
            "BEGIN:DAYLIGHT", "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "END:DAYLIGHT", "END:VTIMEZONE", "",
        ].joined(separator: "\r\n")
    }

    @Test func aZonePastTheCapacityIsNotCachedAndTheCachedOnesStay() {
        let cache = ParsedTimeZoneCache(capacity: 2, maximumTextSize: 4096)
        let first = cache.zone(vtimezone: self.vtimezone("Europe/A"))
        #expect(first != nil)
        #expect(cache.zone(vtimezone: self.vtimezone("Europe/B")) != nil)
        #expect(cache.zone(vtimezone: self.vtimezone("Europe/C")) == nil)
        #expect(cache.count == 2)
        // The same text again is the cached zone, full or not.
        #expect(cache.zone(vtimezone: self.vtimezone("Europe/A"))?.pointer == first?.pointer)
        #expect(cache.count == 2)
    }

    @Test func aZoneTextLongerThanTheMaximumIsNotCached() {
        let cache = ParsedTimeZoneCache(capacity: 10, maximumTextSize: 1024)
        let short = self.vtimezone("Europe/Short")
        let long = self.vtimezone("Europe/Long", padding: 1024)
        #expect(short.utf8.count <= 1024 && long.utf8.count > 1024)
        #expect(cache.zone(vtimezone: short) != nil)
        #expect(cache.zone(vtimezone: long) == nil)
        #expect(cache.count == 1)
    }

}
