import Foundation
import Notifications
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The arithmetic timestamp against the C library's `gmtime_r`, over four centuries of leap
/// years, month ends and times before 1970.
@Suite("ISO 8601 timestamps")
struct ISO8601TimestampTests {
    /// What `gmtime_r` says, formatted the same way.
    static func reference(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let millisecond = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millisecond)
    }

    @Test("known instants")
    func knownInstants() {
        #expect(ISO8601Timestamp.string(millisecondsSince1970: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.string(millisecondsSince1970: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(ISO8601Timestamp.string(millisecondsSince1970: 1_795_621_026_123) == "2026-11-25T15:37:06.123Z")
        #expect(ISO8601Timestamp.string(millisecondsSince1970: -1) == "1969-12-31T23:59:59.999Z")
        #expect(ISO8601Timestamp.string(from: Date(timeIntervalSince1970: 4_107_542_399.9995)) == "2100-02-28T23:59:59.999Z")
    }

    @Test("every day from 1800 to 2200 at a varying time of day agrees with gmtime_r")
    func agreesWithGmtime() {
        let first: Int64 = -5_364_662_400_000  // 1800-01-01
        let last: Int64 = 7_258_118_400_000  // 2200-01-01
        var milliseconds = first
        var step: Int64 = 0
        var mismatches: [String] = []
        while milliseconds < last {
            let ours = ISO8601Timestamp.string(millisecondsSince1970: milliseconds)
            let theirs = Self.reference(milliseconds)
            if ours != theirs { mismatches.append("\(milliseconds): \(ours) != \(theirs)") }
            step = (step * 7_919 + 12_345) % 86_400_000
            milliseconds += 86_400_000 - 43_200_000 + step
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("parsing gives back every instant written, from 1800 to 2200")
    func parsingRoundTrips() {
        var milliseconds: Int64 = -5_364_662_400_000
        var mismatches: [String] = []
        while milliseconds < 7_258_118_400_000 {
            let text = ISO8601Timestamp.string(millisecondsSince1970: milliseconds)
            let parsed = ISO8601Timestamp.millisecondsSince1970(parsing: text)
            if parsed != milliseconds { mismatches.append("\(text): \(String(describing: parsed)) != \(milliseconds)") }
            milliseconds += 86_400_000 * 3 + 3_600_007
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("parsing: no fraction, other fraction lengths")
    func parsingFractions() {
        #expect(ISO8601Timestamp.millisecondsSince1970(parsing: "2026-11-25T15:37:06Z") == 1_795_621_026_000)
        #expect(ISO8601Timestamp.millisecondsSince1970(parsing: "2026-11-25T15:37:06.1Z") == 1_795_621_026_100)
        #expect(ISO8601Timestamp.millisecondsSince1970(parsing: "2026-11-25T15:37:06.123456789Z") == 1_795_621_026_123)
    }

    @Test(
        "parsing refuses anything else",
        arguments: [
            "", "2026-11-25", "2026-11-25T15:37:06.123", "2026-11-25T15:37:06+01:00", "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T15:60:00Z",
            "2026-11-25T15:37:60Z", "2026-11-25 15:37:06Z", "2026-11-25T15:37:06.Z", "2026-11-25T15:37:06,123Z",
            "2026-11-25T15:37:06.12a4Z", "+026-11-25T15:37:06Z", "2026-11-25T15:37:06.1234567890123Z", "２０２６-11-25T15:37:06Z",
        ])
    func parsingRefuses(_ text: String) {
        #expect(ISO8601Timestamp.millisecondsSince1970(parsing: text) == nil)
    }
}
