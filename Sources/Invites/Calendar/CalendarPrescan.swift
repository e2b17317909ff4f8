/// Counts what libical would build from a calendar text, before libical sees it: components,
/// events and the attendees of each event. libical's parse time and memory grow with these,
/// so a text over a limit is refused without being parsed.
enum CalendarPrescan {
    /// `text` is unfolded (see `ContentLineFolding`): every property starts a line.
    static func check(_ text: String, budget: ParseBudget) throws(LimitExceeded) {
        var text = text
        if let exceeded = text.withUTF8({ Self.firstExceeded(in: $0, budget: budget) }) {
            throw exceeded
        }
    }

    private static func firstExceeded(in bytes: UnsafeBufferPointer<UInt8>, budget: ParseBudget) -> LimitExceeded? {
        do {
            try Self.count(bytes, budget: budget)
            return nil
        } catch {
            return error
        }
    }

    private static func count(_ bytes: UnsafeBufferPointer<UInt8>, budget: ParseBudget) throws(LimitExceeded) {
        let limits = budget.limits
        var components = 0
        var events = 0
        var attendees = 0
        var lines = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if Self.hasPrefix(line, "BEGIN:") {
                components += 1
                if components > limits.maximumCalendarComponents {
                    throw LimitExceeded(reason: FailureReason.tooManyComponents(limit: limits.maximumCalendarComponents))
                }
                if Self.hasPrefix(line, "BEGIN:VEVENT") {
                    events += 1
                    attendees = 0
                    if events > limits.maximumEvents {
                        throw LimitExceeded(reason: FailureReason.tooManyEvents(limit: limits.maximumEvents))
                    }
                }
            } else if Self.hasPrefix(line, "ATTENDEE"), line.count > 8, line[8] == 0x3A || line[8] == 0x3B {
                attendees += 1
                if attendees > limits.maximumAttendees {
                    throw LimitExceeded(reason: FailureReason.tooManyAttendees(limit: limits.maximumAttendees))
                }
            }
            lines += 1
            if lines % 65_536 == 0 { try budget.checkDeadline("counting the components of the calendar") }
            start = end + 1
        }
    }

    /// Whether `line` starts with the upper-case ASCII `prefix`, ignoring case.
    private static func hasPrefix(_ line: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        guard line.count >= prefix.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        for index in 0..<expected.count {
            var byte = line[index]
            if (0x61...0x7A).contains(byte) { byte -= 0x20 }
            if byte != expected[index] { return false }
        }
        return true
    }
}
