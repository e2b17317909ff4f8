/// Turns one stored message into event requests: pure, no I/O.
public enum InviteParser {
    /// Initializes GMime and libical. `cis` calls this once at start-up, before threads start;
    /// `parse` calls it too, so forgetting it is harmless.
    public static func initialize() {
        GMime.initialize()
        Libical.initialize()
    }

    /// Parses `input` within `limits`: a message over one of them (the timeout included, checked
    /// between stages) gives a failure saying which. A single libical or GMime call is not
    /// interrupted; callers that need a hard deadline run this in a process they can kill
    /// (`cis parse-worker`).
    public static func parse(_ input: InviteInput, limits: ParseLimits = .default) -> InviteParseResult {
        Self.initialize()
        let budget = ParseBudget(limits: limits)
        var context = Self.context(of: input)
        do {
            return try Self.parse(input, budget: budget, context: &context)
        } catch {
            return .failure(context.failure(error.reason))
        }
    }

    /// The failure for a parse stopped from outside at its deadline.
    public static func timedOut(_ input: InviteInput, limits: ParseLimits) -> InviteFailure {
        Self.context(of: input).failure(FailureReason.timedOut(seconds: limits.timeoutSeconds, stage: "reading the message"))
    }

    /// The failure for a parse whose worker ran out of the memory it may use (`bytes`).
    public static func overMemoryLimit(_ input: InviteInput, bytes: Int) -> InviteFailure {
        Self.context(of: input).failure(FailureReason.overMemoryLimit(bytes: bytes))
    }

    /// The failure for a parse whose worker ended without an answer (a crash in GMime or libical).
    public static func parserStopped(_ input: InviteInput, detail: String) -> InviteFailure {
        Self.context(of: input).failure(FailureReason.parserStopped(detail))
    }

    private static func context(of input: InviteInput) -> RequestContext {
        let envelopeSender = input.envelopeSender.flatMap { MailAddress.parseList($0).first?.address }
        return RequestContext(
            requestId: input.requestId, mailto: envelopeSender, returnPath: envelopeSender,
            bucket: input.bucket, key: input.key)
    }

    private static func parse(
        _ input: InviteInput, budget: ParseBudget, context: inout RequestContext
    ) throws(LimitExceeded) -> InviteParseResult {
        let envelopeSender = context.mailto
        let bytes = LineEnds.repairingBareCR(input.message)
        if TNEF.isTNEF(bytes) {
            return .failure(context.failure(FailureReason.tnef))
        }
        let parts: [CalendarPart]
        if let calendarText = BareCalendar.text(of: bytes) {
            try budget.checkDeadline("decoding the calendar")
            parts = [CalendarPart(text: calendarText, contentTypeMethod: nil, isInline: true, mediaType: "text/calendar", filename: nil)]
        } else {
            try MIMEPrescan.check(bytes, budget: budget)
            try budget.checkDeadline("reading the MIME structure")
            guard let message = try GMime.parseMessage(bytes, budget: budget) else {
                return .failure(context.failure(FailureReason.notAMessage))
            }
            context.mailto = message.requester?.address ?? envelopeSender
            context.returnPath = message.returnPath ?? envelopeSender
            if message.isReport {
                return .ignored(reason: "a delivery or disposition report (\(message.reportType ?? "unknown type")): it quotes a message and asks for nothing")
            }
            guard !message.calendarParts.isEmpty else {
                return .failure(context.failure(message.hasTNEF ? FailureReason.tnef : FailureReason.noCalendarPart))
            }
            parts = message.calendarParts
        }
        return try Self.bestResult(of: parts, context: context, budget: budget)
    }

    /// Interprets every calendar part and keeps the best outcome: a part that gives requests
    /// over one that fails, then a part whose body METHOD matches its Content-Type `method=`,
    /// then inline over attached, then document order.
    private static func bestResult(
        of parts: [CalendarPart], context: RequestContext, budget: ParseBudget
    ) throws(LimitExceeded) -> InviteParseResult {
        struct Candidate {
            var result: Result<[EventRequest], InviteFailure>
            var methodMatches: Bool
            var isInline: Bool
            var index: Int

            var rank: (Int, Int, Int, Int) {
                (self.succeeded ? 0 : 1, self.methodMatches ? 0 : 1, self.isInline ? 0 : 1, self.index)
            }

            var succeeded: Bool {
                if case .success = self.result { return true }
                return false
            }
        }
        var candidates: [Candidate] = []
        for (index, part) in parts.enumerated() {
            try budget.checkDeadline("reading calendar part \(index + 1) of \(parts.count)")
            let interpretation = try CalendarInterpreter.interpret(part, context: context, budget: budget)
            // One copy contradicting its own Content-Type makes the whole message ambiguous.
            if interpretation.methodContradicts, case .failure(let failure) = interpretation.result {
                return .failure(failure)
            }
            candidates.append(Candidate(
                result: interpretation.result, methodMatches: interpretation.methodMatches,
                isInline: part.isInline, index: index))
        }
        guard let best = candidates.min(by: { $0.rank < $1.rank }) else {
            return .failure(context.failure(FailureReason.noCalendarPart))
        }
        switch best.result {
        case .success(let requests): return .requests(requests)
        case .failure(let failure): return .failure(failure)
        }
    }
}

/// Where the message came from and who to answer: what every request and failure carries.
struct RequestContext: Sendable {
    var requestId: String
    var mailto: String?
    var returnPath: String?
    var bucket: String
    var key: String

    func failure(_ reason: String, method: String? = nil) -> InviteFailure {
        InviteFailure(
            reason: reason, requestId: self.requestId, mailto: self.mailto, returnPath: self.returnPath,
            method: method, bucket: self.bucket, key: self.key)
    }
}

/// A bare iCalendar object given instead of a message (`cis parse invite.ics`).
enum BareCalendar {
    /// The text when `bytes` starts, after white space and a byte order mark, with `BEGIN:VCALENDAR`.
    static func text(of bytes: [UInt8]) -> String? {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[start]) { start += 1 }
        let marker = Array("BEGIN:VCALENDAR".utf8)
        guard bytes.count - start >= marker.count,
            zip(bytes[start..<(start + marker.count)], marker).allSatisfy({ Self.upper($0) == $1 })
        else { return nil }
        return TextDecoding.utf8OrLatin1(Array(bytes[start...]))
    }

    private static func upper(_ byte: UInt8) -> UInt8 {
        (0x61...0x7A).contains(byte) ? byte - 0x20 : byte
    }
}

/// Transport Neutral Encapsulation Format, Outlook's winmail.dat.
enum TNEF {
    /// TNEF streams start with the signature 0x223E9F78, little-endian.
    static func isTNEF(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0x78, 0x9F, 0x3E, 0x22])
    }
}
